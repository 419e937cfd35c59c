/*
 * xml_mem.c — the strings and arrays an XML import keeps (xml_mem.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xml_mem.h"

void *jh_xml_grow(jh_xml_pool *p, void *arr, size_t *cap, size_t need,
                  size_t size) {
  size_t n = *cap ? *cap : 8;
  void *grown;
  if (need <= *cap)
    return arr;
  while (n < need)
    n *= 2;
  grown = reallocarray(arr, n, size);
  if (grown == NULL) {
    p->oom = 1;
    return NULL;
  }
  *cap = n;
  return grown;
}

const char *jh_xml_keep(jh_xml_pool *p, char *s) {
  void **v = s != NULL ? jh_xml_grow(p, p->v, &p->cap, p->n + 1, sizeof(*v))
                       : NULL;
  if (v == NULL) {
    free(s);
    p->oom = 1;
    return "?";
  }
  p->v = v;
  p->v[p->n++] = s;
  return s;
}

const char *jh_xml_fmt(jh_xml_pool *p, const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  int rc;
  va_start(ap, fmt);
  rc = vasprintf(&s, fmt, ap);
  va_end(ap);
  return jh_xml_keep(p, rc < 0 ? NULL : s);
}

void jh_xml_push(jh_xml_pool *p, jh_xml_nodes *v, size_t fi, xmlNode *n) {
  jh_xml_node *grown = jh_xml_grow(p, v->v, &v->cap, v->n + 1, sizeof(*v->v));
  if (grown == NULL)
    return;
  v->v = grown;
  v->v[v->n].fi = fi;
  v->v[v->n].n = n;
  v->n++;
}

void jh_xml_pool_free(jh_xml_pool *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  p->v = NULL;
  p->n = p->cap = 0;
}
