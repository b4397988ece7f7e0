from tests.fixtures.app import Api


async def test_healthz_answers(api: Api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reaches_the_database(api: Api) -> None:
    response = await api.http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_metrics_expose_requests_by_route_template(api: Api) -> None:
    await api.http.get("/healthz")
    await api.http.get("/no/such/route/12345")
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'eventgraph_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "eventgraph_http_request_duration_seconds_bucket" in text
    assert "eventgraph_events_published_total" in text
    assert "eventgraph_db_pool_connections_in_use" in text
    assert "eventgraph_graphql_operations" in text
    assert "/no/such/route/12345" not in text


async def test_metrics_count_graphql_operations_on_both_execution_paths(api: Api) -> None:
    fast = "query FastOne { events(first: 1) { nodes { id } } }"
    general = "query GeneralOne { events(first: 1) { nodes { id ... on Event { type } } } }"
    await api.ok(fast)
    await api.ok(general)
    await api.graphql("query Broken { nope }")
    text = (await api.http.get("/metrics")).text
    series = {
        line.split("{", 1)[1].split("}", 1)[0]
        for line in text.splitlines()
        if line.startswith("eventgraph_graphql_operations_total{")
    }
    assert 'operation="FastOne",outcome="ok",type="query"' in series
    assert 'operation="GeneralOne",outcome="ok",type="query"' in series
    assert 'operation="Broken",outcome="error",type="query"' in series


async def test_metrics_label_every_served_route_by_template(api: Api) -> None:
    await api.http.get("/openapi.json")
    await api.http.get("/docs")
    await api.graphql("query Broken { nope }")
    await api.ok("query FastOne { events(first: 1) { nodes { id } } }")
    await api.http.get("/api/v1/channels/nope/events/01HZQX5K9V6BMRJ3WYAT0GN1PH")
    await api.http.get("/v1/admin/events/replay")
    await api.http.get("/graphql", params={"query": "{ events(first: 1) { nodes { id } } }\x00"})
    await api.http.get("/no/such/route")
    text = (await api.http.get("/metrics")).text
    series = [
        line.split("{", 1)[1].rsplit("} ", 1)[0]
        for line in text.splitlines()
        if line.startswith("eventgraph_http_requests_total{")
    ]
    assert 'method="GET",route="/openapi.json",status="200"' in series
    assert 'method="GET",route="/docs",status="200"' in series
    assert 'method="POST",route="/graphql",status="200"' in series
    assert (
        'method="GET",route="/api/v1/channels/{channelId}/events/{eventId}",status="404"' in series
    )
    assert 'method="GET",route="/v1/admin/events/replay",status="405"' in series
    # A path no route serves is labelled "unmatched", never by itself. (Other tests in
    # this process may add unmatched series with other statuses, e.g. a CSRF 403 that is
    # answered before routing: the registry is per process.)
    assert 'method="GET",route="unmatched",status="404"' in series
    assert not [s for s in series if "/no/such/route" in s], series
