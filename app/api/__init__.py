"""Machine interfaces: API keys, the JSON REST API, its OpenAPI document and Open311 GeoReport v2."""
