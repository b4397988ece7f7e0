#!/bin/sh
# Re-fetch GraphiQL's release files from the npm registry into assets/ (run it when bumping
# a version below, then commit assets/; nothing is fetched at run time). Needs npm and tar.
set -eu
GRAPHIQL=3.8.3              # the last GraphiQL with a UMD build (4.x ships ES modules only)
EXPLORER=3.2.6              # @graphiql/plugin-explorer for GraphiQL 3
REACT=18.3.1                # GraphiQL 3 runs on React 18 (react, react-dom UMD builds)
# The graphql-ws client that subscriptions use is bundled inside graphiql.min.js (its client
# code is that of graphql-ws 5.14.0/5.14.1); only its licence is taken from this package.
GRAPHQL_WS=5.14.1

cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "@graphiql/plugin-explorer@$EXPLORER" \
  "react@$REACT" "react-dom@$REACT" "graphql-ws@$GRAPHQL_WS" >/dev/null)
for tarball in "$work"/*.tgz; do
  name=$(basename "$tarball" .tgz)
  mkdir "$work/$name" && tar xzf "$tarball" -C "$work/$name"
done

out=assets
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$out/graphiql.min.js"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/graphiql.min.css"
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE.graphiql"
cp "$work/graphiql-plugin-explorer-$EXPLORER/package/dist/index.umd.js" "$out/plugin-explorer.umd.js"
cp "$work/graphiql-plugin-explorer-$EXPLORER/package/dist/style.css" "$out/plugin-explorer.css"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$out/react.production.min.js"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
cp "$work/react-$REACT/package/LICENSE" "$out/LICENSE.react"
cp "$work/graphql-ws-$GRAPHQL_WS/package/LICENSE.md" "$out/LICENSE.graphql-ws"
cat > "$out/VERSIONS" <<VERSIONS
Fetched from the npm registry by ../fetch_assets.sh; every package is MIT licensed.
graphiql $GRAPHIQL (LICENSE.graphiql)
@graphiql/plugin-explorer $EXPLORER (MIT per its package.json, which ships no licence file;
  the text is the same as LICENSE.graphiql, copyright GraphQL Contributors)
react $REACT, react-dom $REACT (LICENSE.react, which covers both)
graphql-ws $GRAPHQL_WS (LICENSE.graphql-ws): the WebSocket client of GraphiQL's subscriptions,
  bundled inside graphiql.min.js by GraphiQL's own build
VERSIONS
echo "assets updated: graphiql $GRAPHIQL, plugin-explorer $EXPLORER, react $REACT"
