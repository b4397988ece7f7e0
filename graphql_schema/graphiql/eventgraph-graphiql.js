// Starts GraphiQL against this server's /graphql (HTTP for queries and mutations, the
// graphql-transport-ws WebSocket for subscriptions). An external file, not an inline
// script, so the page runs under a Content-Security-Policy of 'self' sources.
(function () {
  "use strict";
  var url = window.location.origin + window.location.pathname.replace(/\/+$/, "");
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws"),
  });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery:
        "# Public events need no token; add one under Headers:\n" +
        '# {"Authorization": "Bearer <secret>"}\n' +
        "{\n  events(first: 5) {\n    nodes { id type channelId createdAt data }\n  }\n}\n",
    })
  );
})();
