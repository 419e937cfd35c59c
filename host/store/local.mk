# host/store/ — the jobhost home and its folders, and the host store
# (SQLite: job and task instances, history).
# Uses: lib.
noinst_LTLIBRARIES += host/store/libjh-store.la
host_store_libjh_store_la_SOURCES = \
	host/store/home.c host/store/home.h \
	host/store/store.c host/store/store.h
host_store_libjh_store_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_STORE_INC) \
	$(SQLITE_CFLAGS)
host_store_libjh_store_la_LIBADD = $(SQLITE_LIBS)
