/*
 * export.c — the export plugin: ExportTask.
 *
 * ExportTask runs the export of one connection through its connector
 * package and keeps the mechanics (ExportOutput, ExportCookies,
 * IgnoreCookieFile) out of the packages. reference/domain.md §6.2.
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param export_params[] = {
    JH_PARAM_CONNECTION(1),
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_BOOL_OFF("ignore_cookie_file",
                      "Ignore the incremental cookie: export everything"),
    JH_PARAM_BOOL_OFF("init_mode",
                      "Initialization export: do not historize changes"),
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static const jobhost_task_type export_task_types[] = {
    {.name = "ExportTask",
     .description = "Export a connection's system into CSV tables",
     .params = export_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_AGENT_SIDE},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("export", PACKAGE_VERSION,
                      "Export of connections through their connector package",
                      export_task_types, NULL);
