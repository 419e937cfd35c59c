/*
 * xml_mem.h — what an XML import keeps while it runs: the strings it
 * makes (freed together at its end), the growing arrays of elements it
 * collects, and one out-of-memory flag for all of them, so that a
 * failed allocation is reported once, at the end, rather than at each
 * call. Used by xml_import.c (jobs) and xml_model.c (model elements).
 */
#ifndef JH_XML_MEM_H
#define JH_XML_MEM_H

#include <stddef.h>

#include <libxml/tree.h>

#include <jobhost/jobhost.h> /* JOBHOST_PRINTF */

typedef struct jh_xml_pool {
  void **v; /* malloc'd strings */
  size_t n, cap;
  int oom; /* something could not be allocated */
} jh_xml_pool;

/* An element, and the file (its index among those read) it is in. */
typedef struct jh_xml_node {
  size_t fi;
  xmlNode *n;
} jh_xml_node;

typedef struct jh_xml_nodes {
  jh_xml_node *v;
  size_t n, cap;
} jh_xml_nodes;

/* arr (of *cap items of `size` bytes) with room for `need` items: arr
 * itself or a new array, *cap updated; NULL and p->oom set when out of
 * memory (arr is then unchanged). */
void *jh_xml_grow(jh_xml_pool *p, void *arr, size_t *cap, size_t need,
                  size_t size);

/* Keep s (malloc'd; NULL means its allocation failed) until
 * jh_xml_pool_free. Returns s, or "?" (and p->oom set) when out of
 * memory. */
const char *jh_xml_keep(jh_xml_pool *p, char *s);

/* A formatted string, kept as jh_xml_keep keeps it. */
const char *jh_xml_fmt(jh_xml_pool *p, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);

/* Add (fi, n) to v. */
void jh_xml_push(jh_xml_pool *p, jh_xml_nodes *v, size_t fi, xmlNode *n);

/* Free the strings kept. */
void jh_xml_pool_free(jh_xml_pool *p);

#endif /* JH_XML_MEM_H */
