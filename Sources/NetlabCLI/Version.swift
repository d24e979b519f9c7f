// netlab's version: the one place it is written (the Makefile, the Debian package and
// `netlab --version` read it from here).
let netlabVersion = "0.1.0"
