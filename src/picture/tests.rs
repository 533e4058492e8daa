//! Tests of the pictures: escaping, the bounds on marks and rows, merging,
//! and the page structure. The rendering in a real browser is tested in
//! tests/pictures.rs.
