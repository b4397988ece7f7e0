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
