//! loader.conf(5), as far as carp is concerned: `carp_load="YES"` loads
//! carp.ko at boot (FreeBSD 10 and later); `if_carp_load` named the FreeBSD
//! 9 module if_carp.ko, which no longer exists (Handbook, `[[carp-10x]]`
//! and `[[carp-9x]]`, freebsd-doc @ `000c4bca`; docs/freebsd-carp.md §5.4).

use super::Issue;
use crate::rcconf::sh;
use crate::textfile::Pos;

/// What a loader.conf says about carp.
#[derive(Debug, Clone, Default)]
pub struct LoaderConf {
    /// `carp_load`: whether YES, and where.
    pub(crate) carp_load: Option<(bool, Pos)>,
    /// `if_carp_load`: whether YES, and where.
    pub(crate) if_carp_load: Option<(bool, Pos)>,
    pub issues: Vec<Issue>,
}

fn yes(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("yes")
}

/// Read a loader.conf.
pub fn loader(src: &str) -> LoaderConf {
    let f = sh::parse(src);
    let mut out = LoaderConf::default();
    for p in &f.problems {
        out.issues
            .push(Issue::new(p.kind.into(), p.pos, p.message.clone()));
    }
    for (later, first) in f.duplicates() {
        out.issues.push(Issue::duplicate_assignment(
            &later.name,
            later.pos,
            first.pos.line,
            ": the later value wins",
        ));
    }
    if let Some(a) = f.last("carp_load") {
        out.carp_load = Some((yes(&a.value), a.pos));
    }
    if let Some(a) = f.last("if_carp_load") {
        out.if_carp_load = Some((yes(&a.value), a.pos));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::codes::Code;

    fn codes(issues: &[Issue]) -> Vec<(Code, usize)> {
        issues.iter().map(|i| (i.code, i.pos.line)).collect()
    }

    #[test]
    fn loader_conf_carp_load_and_if_carp_load() {
        let l = loader("carp_load=\"YES\"\nif_carp_load=\"yes\"\n");
        assert_eq!(l.carp_load, Some((true, Pos { line: 1, column: 1 })));
        assert_eq!(l.if_carp_load.map(|x| x.0), Some(true));
        let l = loader("carp_load=\"NO\"\ncarp_load=YES\n");
        assert_eq!(l.carp_load.map(|x| x.0), Some(true));
        assert_eq!(codes(&l.issues), [(Code::DuplicateAssignment, 2)]);
        let l = loader("carp_load=“YES”\n");
        assert_eq!(
            codes(&l.issues),
            [(Code::TypographicQuote, 1), (Code::TypographicQuote, 1)]
        );
    }
}
