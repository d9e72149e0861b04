//! Prometheus metrics: requests by route/method/status with latency, outbox depth by state,
//! emails sent and failed.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

/// Every metric the service exports; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub outbox_depth: Family<StateLabels, Gauge>,
    pub emails_sent: Counter,
    pub emails_failed: Counter,
    pub emails_retried: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("frontdesk");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let outbox_depth = Family::<StateLabels, Gauge>::default();
        let emails_sent = Counter::default();
        let emails_failed = Counter::default();
        let emails_retried = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "outbox_emails",
            "Emails in the outbox by state",
            outbox_depth.clone(),
        );
        registry.register(
            "emails_sent",
            "Emails accepted by the mail server",
            emails_sent.clone(),
        );
        registry.register(
            "emails_failed",
            "Emails failed for good",
            emails_failed.clone(),
        );
        registry.register(
            "emails_retried",
            "Delivery attempts deferred for a retry",
            emails_retried.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            requests,
            latency,
            outbox_depth,
            emails_sent,
            emails_failed,
            emails_retried,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}
