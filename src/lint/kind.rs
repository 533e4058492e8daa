//! Which kind of file an input is (cluster file, rc.conf, loader.conf,
//! sysctl.conf, devd.conf): by its name first, else by its content.

use std::path::Path;

/// The kinds of file lint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// A carpctl cluster file (carpctl.toml(5)).
    Cluster,
    RcConf,
    LoaderConf,
    SysctlConf,
    DevdConf,
}

/// What kind of file this is: by name first (`*.toml`, `rc.conf*`,
/// `loader.conf*`, `sysctl.conf*`, `devd.conf` and `*.conf` in a `devd`
/// directory, files in `rc.conf.d`), else by content.
pub(crate) fn kind_of(path: &Path, text: &str) -> Option<FileKind> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".toml") {
        return Some(FileKind::Cluster);
    }
    if name.contains("devd.conf") || (parent == "devd" && name.ends_with(".conf")) {
        return Some(FileKind::DevdConf);
    }
    if name.contains("rc.conf") || parent == "rc.conf.d" {
        return Some(FileKind::RcConf);
    }
    if name.contains("loader.conf") {
        return Some(FileKind::LoaderConf);
    }
    if name.contains("sysctl.conf") {
        return Some(FileKind::SysctlConf);
    }
    by_content(text)
}

fn by_content(text: &str) -> Option<FileKind> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let any = |f: &dyn Fn(&str) -> bool| lines.iter().any(|l| f(l));
    if any(&|l| l.starts_with("[cluster]") || l.starts_with("[[node]]") || l.starts_with("[[vip]]"))
    {
        return Some(FileKind::Cluster);
    }
    if any(&|l| {
        ["notify ", "attach ", "detach ", "nomatch ", "options "]
            .iter()
            .any(|k| l.starts_with(k))
            && l.contains('{')
    }) || any(&|l| l.starts_with("match \""))
    {
        return Some(FileKind::DevdConf);
    }
    if any(&|l| {
        l.starts_with("ifconfig_")
            || l.starts_with("cloned_interfaces=")
            || l.starts_with("hostname=")
    }) {
        return Some(FileKind::RcConf);
    }
    if any(&|l| l.contains("_load=")) {
        return Some(FileKind::LoaderConf);
    }
    let dotted = |l: &str| {
        l.split_once('=').is_some_and(|(n, _)| {
            n.contains('.') && !n.contains(char::is_whitespace) && !n.contains('"')
        })
    };
    if lines.iter().all(|l| dotted(l)) {
        return Some(FileKind::SysctlConf);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_content() {
        let k = |p: &str, t: &str| kind_of(Path::new(p), t);
        assert_eq!(k("/etc/rc.conf", ""), Some(FileKind::RcConf));
        assert_eq!(k("rc.conf.local", ""), Some(FileKind::RcConf));
        assert_eq!(k("seed-a.rc.conf", ""), Some(FileKind::RcConf));
        assert_eq!(k("/etc/rc.conf.d/netif", ""), Some(FileKind::RcConf));
        assert_eq!(k("/boot/loader.conf", ""), Some(FileKind::LoaderConf));
        assert_eq!(k("/etc/sysctl.conf", ""), Some(FileKind::SysctlConf));
        assert_eq!(k("/etc/devd.conf", ""), Some(FileKind::DevdConf));
        assert_eq!(
            k("/usr/local/etc/devd/carp.conf", ""),
            Some(FileKind::DevdConf)
        );
        assert_eq!(k("carpctl.toml", ""), Some(FileKind::Cluster));
        assert_eq!(k("x", "ifconfig_em0=\"DHCP\"\n"), Some(FileKind::RcConf));
        assert_eq!(k("x", "carp_load=\"YES\"\n"), Some(FileKind::LoaderConf));
        assert_eq!(
            k("x", "# c\nnet.inet.carp.preempt=1\n"),
            Some(FileKind::SysctlConf)
        );
        assert_eq!(k("x", "notify 0 {\n};\n"), Some(FileKind::DevdConf));
        assert_eq!(k("x", "[[vip]]\n"), Some(FileKind::Cluster));
        assert_eq!(k("x", "hello world\n"), None);
        assert_eq!(k("x", ""), None);
    }
}
