//! The real FreeBSD system calls behind [`super::Syscalls`]. The only file
//! with `unsafe` code.
#![allow(unsafe_code)]
