//! Prometheus rules and the Grafana dashboard (contrib/).
