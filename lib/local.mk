# lib/local.mk — the private library shared by the host and the built-in plugins (not part of the SDK ABI).
noinst_LTLIBRARIES += lib/libjobhost-private.la
lib_libjobhost_private_la_SOURCES = \
	lib/array.h \
	lib/atomic_file.c lib/atomic_file.h \
	lib/csv.c lib/csv.h \
	lib/extsort.c lib/extsort.h \
	lib/model.c lib/model.h \
	lib/db.c lib/db.h \
	lib/idstore.c lib/idstore.h \
	lib/faultpoint.c lib/faultpoint.h \
	lib/timefmt.c lib/timefmt.h \
	lib/cron.c lib/cron.h \
	lib/tzdate.c lib/tzdate.h \
	lib/instance_id.c lib/instance_id.h \
	lib/collect_batch.c lib/collect_batch.h \
	lib/change_report.c lib/change_report.h \
	lib/exprfn.c lib/exprfn.h lib/exprfn_impl.h lib/exprfn_text.c lib/exprfn_dates.c \
	lib/order_file.c lib/order_file.h \
	lib/file_writer.c lib/file_writer.h \
	lib/textfn.c lib/textfn.h lib/dmetaphone.c lib/dmetaphone.h \
	lib/expr.c lib/expr.h \
	lib/provstore.c lib/provstore.h \
	lib/provstore_fulfill.c \
	lib/provstore_scan.c \
	lib/provstore_classify.c

lib_libjobhost_private_la_CPPFLAGS = $(BASE_CPPFLAGS) $(SQLITE_CFLAGS) \
	$(LUA_CFLAGS) $(JANSSON_CFLAGS)
lib_libjobhost_private_la_LIBADD = $(SQLITE_LIBS) $(LUA_LIBS) $(JANSSON_LIBS) \
	$(UNISTRING_LIBS) -lm
