//! `[metrics]`: the node_exporter textfile and the loopback listener.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::Validator;
use crate::config::MetricsConfig;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    textfile: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
}

impl Validator<'_> {
    pub(super) fn metrics(&mut self, v: Spanned<DeValue<'_>>) -> Option<MetricsConfig> {
        let span = v.span();
        let DeValue::Table(table) = v.into_inner() else {
            self.error(&span, "metrics", "metrics must be a table: write [metrics]");
            return None;
        };
        let (raw, failed) = self.entry::<RawMetrics>(table, span, "[metrics]", "metrics");
        let raw = raw?;
        let mut ok = failed.is_empty();
        let mut m = MetricsConfig::default();
        if let Some(t) = &raw.textfile {
            let path = t.get_ref();
            if path.is_empty() || !Path::new(path).is_absolute() || path.ends_with('/') {
                let msg = format!(
                    "[metrics]: textfile \"{path}\" must be the absolute path of a file \
                     (e.g. /var/tmp/node_exporter/carpctl.prom)"
                );
                self.error(&t.span(), "metrics.textfile", msg);
                ok = false;
            } else if let Some(c) = crate::text::unsafe_char(path) {
                let msg = format!(
                    "[metrics]: textfile contains the control or bidirectional-text character {c}"
                );
                self.error(&t.span(), "metrics.textfile", msg);
                ok = false;
            } else {
                if !path.ends_with(".prom") {
                    let msg = format!(
                        "[metrics]: textfile \"{path}\" does not end in .prom, so \
                         node_exporter's textfile collector will not read it"
                    );
                    self.warn(&t.span(), "metrics.textfile", msg);
                }
                m.textfile = Some(PathBuf::from(path));
            }
        }
        if let Some(l) = &raw.listen {
            let text = l.get_ref();
            match text.parse::<SocketAddr>() {
                Err(_) => {
                    let msg = format!(
                        "[metrics]: listen \"{text}\" is not IP:PORT (e.g. 127.0.0.1:9946 or \
                         [::1]:9946)"
                    );
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) if !a.ip().is_loopback() => {
                    let msg = format!(
                        "[metrics]: listen {a} is not a loopback address; the metrics are \
                         served without authentication, so only 127.0.0.0/8 or ::1 is \
                         accepted (let node_exporter or a proxy export them)"
                    );
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) if a.port() == 0 => {
                    let msg = "[metrics]: listen needs a port other than 0".to_string();
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) => m.listen = Some(a),
            }
        }
        ok.then_some(m)
    }
}
