/*
 * xml_load.c — an Identity Manager XML file loaded as a pipeline
 * (jh_xml_pipeline_load, see xml_import.h).
 *
 * The YAML of the import goes through the pipeline loader unchanged, read
 * from memory as if it were a file beside the XML (nothing is written to
 * disk, so nothing can be left behind), so that an XML job gets exactly
 * the checks of a pipeline. Afterwards, every diagnostic and location
 * about that text is moved onto the XML with the import's line origins.
 */
#include "config.h"

#include "xml_import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "model.h"

/* The XML place of line `line` of the YAML. */
static void place_of(const jh_xml_output *o, int line, const char **file,
                     int *xline, int *xcol) {
  jh_xml_origin org = {-1, 0, 0};
  if (line >= 1 && (size_t)line <= o->nlines)
    org = o->origins[line - 1];
  *file = org.file >= 0 && (size_t)org.file < o->nfiles ? o->files[org.file]
                                                        : o->files[0];
  *xline = org.line;
  *xcol = org.column;
}

/* An error already reported at this place (by the importer): the loader
 * says the same thing about the same attribute in other words. */
static int reported_at(const jh_diags *d, size_t first, size_t end,
                       const char *file, int line, int col) {
  if (line == 0)
    return 0;
  for (size_t i = first; i < end; i++)
    if (d->items[i].severity == JH_DIAG_ERROR && d->items[i].line == line &&
        d->items[i].column == col && d->items[i].file != NULL &&
        strcmp(d->items[i].file, file) == 0)
      return 1;
  return 0;
}

/* Move the loader's diagnostics about the temporary file onto the XML;
 * one error per place. */
static void move_diags(const jh_diags *from, const char *tmp,
                       const jh_xml_output *o, jh_diags *to, size_t first) {
  size_t import_end = to->n;
  for (size_t i = 0; i < from->n; i++) {
    const jh_diag *d = &from->items[i];
    const char *file = d->file;
    int line = d->line, col = d->column;
    if (file != NULL && strcmp(file, tmp) == 0)
      place_of(o, d->line, &file, &line, &col);
    if (d->severity == JH_DIAG_ERROR &&
        reported_at(to, first, import_end, file, line, col))
      continue;
    jh_diag_add(to, d->severity, file, line, col, "%s", d->message);
  }
}

static void relocate_loc(jh_loc *l, const char *tmp, const char *xml,
                         const jh_xml_output *o) {
  const char *file;
  if (l->file != tmp)
    return;
  place_of(o, l->line, &file, &l->line, &l->column);
  l->file = xml;
}

static void relocate_mloc(jh_mloc *l, const char *tmp, const char *xml,
                          const jh_xml_output *o) {
  jh_loc tl = {l->file, l->line, l->column};
  relocate_loc(&tl, tmp, xml, o);
  l->file = tl.file;
  l->line = tl.line;
  l->column = tl.column;
}

/* The model sections an import writes: connectors and connections. A
 * connection's folder becomes the XML file's. */
static int relocate_model(jh_model *m, const char *tmp, const char *xml,
                          const jh_xml_output *o) {
  char *real = realpath(xml, NULL);
  char *slash = real != NULL ? strrchr(real, '/') : NULL;
  int rc = 0;

  if (slash != NULL)
    slash[slash == real ? 1 : 0] = '\0';
  for (size_t i = 0; i < m->nconnectors; i++)
    relocate_mloc(&m->connectors[i].loc, tmp, xml, o);
  for (size_t i = 0; i < m->nconnections; i++) {
    jh_connection *cn = &m->connections[i];
    relocate_mloc(&cn->loc, tmp, xml, o);
    relocate_mloc(&cn->connector_loc, tmp, xml, o);
    relocate_mloc(&cn->package_loc, tmp, xml, o);
    if (real != NULL) {
      char *dir = strdup(real);
      if (dir == NULL) {
        rc = -ENOMEM;
        continue;
      }
      free(cn->base_dir);
      cn->base_dir = dir;
    }
  }
  free(real);
  return rc;
}

/* Make the pipeline's path and locations the XML file's. The loader's
 * copy of the name stays in p->files (after the XML's), alive for
 * anything that still points at it. */
static int relocate(jh_pipeline *p, const char *path, const jh_xml_output *o) {
  char *xml = strdup(path), *top = strdup(path);
  char **grown;
  const char *tmp;

  grown = xml && top ? realloc(p->files, (p->nfiles + 1) * sizeof(*grown))
                     : NULL;
  if (grown == NULL || p->nfiles == 0) {
    if (grown != NULL)
      p->files = grown;
    free(xml);
    free(top);
    return -ENOMEM;
  }
  p->files = grown;
  tmp = p->files[0];
  p->files[p->nfiles++] = p->files[0];
  p->files[0] = xml;
  free(p->path);
  p->path = top;
  relocate_loc(&p->job_loc, tmp, xml, o);
  for (size_t i = 0; i < p->ntasks; i++) {
    jh_task_def *t = &p->tasks[i];
    relocate_loc(&t->loc, tmp, xml, o);
    for (size_t k = 0; k < t->ndepends; k++)
      relocate_loc(&t->depends_loc[k], tmp, xml, o);
    for (size_t k = 0; k < t->nparams; k++)
      relocate_loc(&t->params[k].loc, tmp, xml, o);
  }
  return p->model != NULL ? relocate_model(p->model, tmp, xml, o) : 0;
}

int jh_xml_pipeline_load(const char *path, const jh_registry *reg,
                         const jh_xml_options *opt, jh_pipeline **out,
                         jh_diags *diags) {
  jh_diags loaded = JH_DIAGS_INIT;
  jh_xml_output o;
  jh_pipeline *p = NULL;
  size_t first = diags->n;
  int rc, lrc;

  *out = NULL;
  rc = jh_xml_import(&path, 1, reg, opt, &o, diags);
  if (rc == -ENOMEM || o.yaml == NULL) {
    jh_xml_output_clear(&o);
    return rc != 0 ? rc : JOBHOST_ECONFIG;
  }
  lrc = jh_pipeline_load_text(path, o.yaml, o.len, reg, NULL, &p, &loaded);
  move_diags(&loaded, path, &o, diags, first);
  if (p != NULL && relocate(p, path, &o) != 0)
    lrc = -ENOMEM;
  jh_xml_sort_diags(diags, first, o.files, o.nfiles);
  jh_diags_clear(&loaded);
  jh_xml_output_clear(&o);
  if (rc == 0)
    rc = lrc;
  if (rc != 0) {
    jh_pipeline_free(p);
    return rc;
  }
  *out = p;
  return 0;
}
