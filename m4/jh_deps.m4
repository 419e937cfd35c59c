# jh_deps.m4 — dependency checks that tell the user which Debian package
# to install when something is missing.

# JH_REQUIRE_PKG(VARIABLE-PREFIX, PKG-CONFIG-MODULES, DEBIAN-PACKAGE)
# -------------------------------------------------------------------
# Looks the modules up with pkg-config, sets VARIABLE-PREFIX_CFLAGS and
# VARIABLE-PREFIX_LIBS, and stops configure naming the package otherwise.
AC_DEFUN([JH_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 was not found ($$1_PKG_ERRORS).
    On Debian, install it with:  apt-get install $3])])
])

# JH_REQUIRE_LTDL
# ---------------
# libltdl ships no pkg-config file: check the header and the library.
AC_DEFUN([JH_REQUIRE_LTDL], [
  AC_CHECK_HEADER([ltdl.h], [],
    [AC_MSG_ERROR([ltdl.h (libltdl) was not found.
    On Debian, install it with:  apt-get install libltdl-dev])])
  AC_CHECK_LIB([ltdl], [lt_dlinit], [LTDL_LIBS=-lltdl],
    [AC_MSG_ERROR([libltdl was not found.
    On Debian, install it with:  apt-get install libltdl-dev])])
  AC_SUBST([LTDL_LIBS])
])
