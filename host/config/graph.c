/*
 * graph.c — see graph.h.
 *
 * Links are indices into the pipeline's tasks. Cycles are found with an
 * iterative depth-first search (no recursion, whatever the number of
 * tasks); levels and steps are then plain passes in document order.
 */
#include "config.h"

#include "graph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

/* ---- building ---- */

static void graph_free_arrays(jh_graph *g) {
  for (size_t i = 0; i < g->n; i++) {
    if (g->parents != NULL)
      free(g->parents[i]);
    if (g->children != NULL)
      free(g->children[i]);
  }
  free(g->level);
  free(g->parents);
  free(g->nparents);
  free(g->children);
  free(g->nchildren);
  free(g->steps);
  free(g->step_order);
}

void jh_graph_free(jh_graph *g) {
  if (g == NULL)
    return;
  graph_free_arrays(g);
  free(g);
}

static int graph_alloc(jh_graph *g, size_t n) {
  size_t m = n == 0 ? 1 : n;
  g->n = n;
  g->level = calloc(m, sizeof(*g->level));
  g->parents = calloc(m, sizeof(*g->parents));
  g->nparents = calloc(m, sizeof(*g->nparents));
  g->children = calloc(m, sizeof(*g->children));
  g->nchildren = calloc(m, sizeof(*g->nchildren));
  g->steps = calloc(m, sizeof(*g->steps));
  g->step_order = calloc(m, sizeof(*g->step_order));
  if (g->level == NULL || g->parents == NULL || g->nparents == NULL ||
      g->children == NULL || g->nchildren == NULL || g->steps == NULL ||
      g->step_order == NULL)
    return -ENOMEM;
  return 0;
}

/* Resolve depends_on into parent and child indices. An unknown parent
 * (only possible with a pipeline not made by jh_pipeline_load) is an
 * error. */
static int graph_links(jh_graph *g, const jh_pipeline *p, jh_diags *diags) {
  int bad = 0;
  for (size_t i = 0; i < g->n; i++) {
    const jh_task_def *t = &p->tasks[i];
    g->parents[i] = calloc(t->ndepends == 0 ? 1 : t->ndepends,
                           sizeof(*g->parents[i]));
    if (g->parents[i] == NULL)
      return -ENOMEM;
    for (size_t d = 0; d < t->ndepends; d++) {
      size_t j;
      if (jh_pipeline_task(p, t->depends_on[d], &j) == NULL) {
        jh_diag_error(diags, t->depends_loc[d].file, t->depends_loc[d].line,
                      t->depends_loc[d].column,
                      "unknown task '%s' in depends_on",
                      JH_Q(t->depends_on[d]));
        bad = 1;
        continue;
      }
      g->parents[i][g->nparents[i]++] = j;
      g->nchildren[j]++;
    }
  }
  for (size_t j = 0; j < g->n; j++) {
    g->children[j] = calloc(g->nchildren[j] == 0 ? 1 : g->nchildren[j],
                            sizeof(*g->children[j]));
    if (g->children[j] == NULL)
      return -ENOMEM;
    g->nchildren[j] = 0;
  }
  for (size_t i = 0; i < g->n; i++)
    for (size_t k = 0; k < g->nparents[i]; k++) {
      size_t j = g->parents[i][k];
      g->children[j][g->nchildren[j]++] = i;
    }
  return bad ? JOBHOST_ECONFIG : 0;
}

/* The location of a task's depends_on item naming `parent`. */
static jh_loc link_loc(const jh_pipeline *p, size_t child, size_t parent) {
  const jh_task_def *t = &p->tasks[child];
  for (size_t d = 0; d < t->ndepends; d++)
    if (strcmp(t->depends_on[d], p->tasks[parent].id) == 0)
      return t->depends_loc[d];
  return t->loc;
}

/* Report the cycle path[from..len-1] (each a parent of the next, the last
 * a parent of path[from]), written from its task first in document
 * order, and mark its tasks in on_cycle. */
static int report_cycle(const jh_pipeline *p, const size_t *path, size_t from,
                        size_t len, char *on_cycle, jh_diags *diags) {
  size_t k = len - from, first = from, size = 1;
  char *text, *o;

  for (size_t i = from; i < len; i++) {
    on_cycle[path[i]] = 1;
    if (path[i] < path[first])
      first = i;
    size += strlen(JH_Q(p->tasks[path[i]].id)) + 4;
  }
  size += strlen(JH_Q(p->tasks[path[first]].id));
  text = malloc(size);
  if (text == NULL)
    return -ENOMEM;
  o = text;
  for (size_t s = 0; s <= k; s++) {
    size_t at = from + (first - from + s) % k;
    o += sprintf(o, "%s%s", s > 0 ? " -> " : "", JH_Q(p->tasks[path[at]].id));
  }
  jh_diag_error(diags, p->tasks[path[first]].loc.file,
                p->tasks[path[first]].loc.line,
                p->tasks[path[first]].loc.column,
                "dependency cycle: %s (each task is a parent of the next)",
                text);
  free(text);
  return 0;
}

/*
 * Find dependency cycles: depth-first over parent -> child links, roots in
 * document order. A link to a task still on the path closes a cycle,
 * reported once. Returns the number of cycles found, or -ENOMEM.
 */
static int find_cycles(const jh_graph *g, char *on_cycle, jh_diags *diags) {
  const jh_pipeline *p = g->pipeline;
  size_t n = g->n, m = n == 0 ? 1 : n;
  size_t *path = calloc(m, sizeof(*path)); /* tasks on the current path */
  size_t *next = calloc(m, sizeof(*next)); /* next child to explore */
  size_t *pos = calloc(m, sizeof(*pos));   /* index in path, + 1 */
  char *done = calloc(m, 1);
  int cycles = 0;

  if (path == NULL || next == NULL || pos == NULL || done == NULL) {
    cycles = -ENOMEM;
    goto out;
  }
  for (size_t root = 0; root < n && cycles >= 0; root++) {
    size_t len = 0;
    if (done[root])
      continue;
    path[len++] = root;
    pos[root] = len;
    while (len > 0 && cycles >= 0) {
      size_t u = path[len - 1];
      if (next[u] == g->nchildren[u]) {
        done[u] = 1;
        pos[u] = 0;
        len--;
        continue;
      }
      size_t v = g->children[u][next[u]++];
      if (pos[v] != 0) {
        if (report_cycle(p, path, pos[v] - 1, len, on_cycle, diags) != 0)
          cycles = -ENOMEM;
        else
          cycles++;
      } else if (!done[v]) {
        path[len++] = v;
        pos[v] = len;
      }
    }
  }
out:
  free(path);
  free(next);
  free(pos);
  free(done);
  return cycles;
}

/* ordering: levels — written levels, else one past the highest before;
 * every parent strictly below its child (links on a cycle are left to
 * the cycle report). */
static int levels_by_order(jh_graph *g, const char *on_cycle, jh_diags *diags) {
  const jh_pipeline *p = g->pipeline;
  int highest = -1, bad = 0;

  for (size_t i = 0; i < g->n; i++) {
    g->level[i] = p->tasks[i].level >= 0 ? p->tasks[i].level : highest + 1;
    if (g->level[i] > highest)
      highest = g->level[i];
  }
  for (size_t i = 0; i < g->n; i++)
    for (size_t k = 0; k < g->nparents[i]; k++) {
      size_t j = g->parents[i][k];
      jh_loc l;
      if (g->level[j] < g->level[i] || (on_cycle[i] && on_cycle[j]))
        continue;
      l = link_loc(p, i, j);
      jh_diag_error(diags, l.file, l.line, l.column,
                    "task '%s' (level %d%s) depends on '%s' (level %d%s): a "
                    "parent must have a lower level than the tasks that "
                    "depend on it",
                    JH_Q(p->tasks[i].id), g->level[i],
                    p->tasks[i].level < 0 ? ", from document order" : "",
                    JH_Q(p->tasks[j].id), g->level[j],
                    p->tasks[j].level < 0 ? ", from document order" : "");
      bad = 1;
    }
  return bad ? JOBHOST_ECONFIG : 0;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Renumber levels densely from 0, keeping their order. */
static int levels_dense(jh_graph *g) {
  int *sorted = malloc((g->n == 0 ? 1 : g->n) * sizeof(*sorted));
  size_t distinct = 0;

  if (sorted == NULL)
    return -ENOMEM;
  memcpy(sorted, g->level, g->n * sizeof(*sorted));
  qsort(sorted, g->n, sizeof(*sorted), cmp_int);
  for (size_t i = 0; i < g->n; i++)
    if (distinct == 0 || sorted[distinct - 1] != sorted[i])
      sorted[distinct++] = sorted[i];
  for (size_t i = 0; i < g->n; i++) {
    int *at = bsearch(&g->level[i], sorted, distinct, sizeof(*sorted), cmp_int);
    g->level[i] = (int)(at - sorted);
  }
  g->nlevels = (int)distinct;
  free(sorted);
  return 0;
}

/* ordering: dependencies — depth in the (acyclic) graph: tasks are taken
 * once all their parents have a depth (Kahn's order). */
static int levels_by_depth(jh_graph *g) {
  size_t *waiting = calloc(g->n == 0 ? 1 : g->n, sizeof(*waiting));
  size_t *queue = calloc(g->n == 0 ? 1 : g->n, sizeof(*queue));
  size_t head = 0, tail = 0;
  int rc = 0;

  if (waiting == NULL || queue == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  g->nlevels = g->n > 0 ? 1 : 0;
  for (size_t i = 0; i < g->n; i++) {
    waiting[i] = g->nparents[i];
    g->level[i] = 0;
    if (waiting[i] == 0)
      queue[tail++] = i;
  }
  while (head < tail) {
    size_t u = queue[head++];
    for (size_t k = 0; k < g->nchildren[u]; k++) {
      size_t v = g->children[u][k];
      if (g->level[u] + 1 > g->level[v])
        g->level[v] = g->level[u] + 1;
      if (--waiting[v] == 0)
        queue[tail++] = v;
    }
    if (g->level[u] + 1 > g->nlevels)
      g->nlevels = g->level[u] + 1;
  }
out:
  free(waiting);
  free(queue);
  return rc;
}

/* Steps: by level, then document order (a counting sort on the dense
 * levels); within a level, chunks of max_parallel tasks take consecutive
 * Order numbers, unless the level runs as one window (level_overflow:
 * window). */
static int graph_steps(jh_graph *g) {
  size_t nlevels = g->nlevels > 0 ? (size_t)g->nlevels : 0;
  size_t *start = calloc(nlevels + 1, sizeof(*start));
  size_t order = 0;
  size_t chunk = g->pipeline->max_parallel > 0
                     ? (size_t)g->pipeline->max_parallel
                     : 1;

  if (start == NULL)
    return -ENOMEM;
  if (g->pipeline->ordering == JH_ORDER_LEVELS &&
      g->pipeline->level_overflow == JH_OVERFLOW_WINDOW)
    chunk = g->n + 1;
  for (size_t i = 0; i < g->n; i++)
    start[g->level[i] + 1]++;
  for (size_t lv = 0; lv < nlevels; lv++)
    start[lv + 1] += start[lv];
  for (size_t i = 0; i < g->n; i++)
    g->steps[start[g->level[i]]++] = i; /* start[lv]: end of level lv */
  for (size_t k = 0; k < g->n; k++) {
    int lv = g->level[g->steps[k]];
    size_t first = lv == 0 ? 0 : start[lv - 1];
    if (k > first && (k - first) % chunk == 0)
      order++;
    g->step_order[k] = order;
    if (k + 1 == start[lv])
      order++; /* the next level starts a new step */
  }
  free(start);
  return 0;
}

int jh_graph_build(const jh_pipeline *p, jh_graph **out, jh_diags *diags) {
  jh_graph *g = calloc(1, sizeof(*g));
  char *on_cycle = NULL;
  int rc, cycles = 0;

  *out = NULL;
  if (g == NULL)
    return -ENOMEM;
  g->pipeline = p;
  rc = graph_alloc(g, p->ntasks);
  if (rc == 0)
    rc = graph_links(g, p, diags);
  if (rc == 0) {
    on_cycle = calloc(g->n == 0 ? 1 : g->n, 1);
    rc = on_cycle == NULL ? -ENOMEM : 0;
  }
  if (rc == 0) {
    cycles = find_cycles(g, on_cycle, diags);
    rc = cycles < 0 ? cycles : 0;
  }
  if (rc == 0 && p->ordering == JH_ORDER_LEVELS) {
    rc = levels_by_order(g, on_cycle, diags);
    if (rc == 0 && cycles == 0)
      rc = levels_dense(g);
  } else if (rc == 0 && cycles == 0) {
    rc = levels_by_depth(g);
  }
  if (rc == 0 && cycles > 0)
    rc = JOBHOST_ECONFIG;
  free(on_cycle);
  if (rc == 0)
    rc = graph_steps(g);
  if (rc != 0) {
    jh_graph_free(g);
    return rc;
  }
  *out = g;
  return 0;
}

int jh_graph_format_parse(const char *name, jh_graph_format *out) {
  if (strcmp(name, "text") == 0)
    *out = JH_GRAPH_TEXT;
  else if (strcmp(name, "dot") == 0)
    *out = JH_GRAPH_DOT;
  else if (strcmp(name, "mermaid") == 0)
    *out = JH_GRAPH_MERMAID;
  else
    return -EINVAL;
  return 0;
}

/* ---- printing ---- */

static void print_text(const jh_graph *g, FILE *out) {
  const jh_pipeline *p = g->pipeline;
  fprintf(out,
          "job %s: %zu task%s, %d level%s (ordering: %s, "
          "max_parallel: %d%s)\n",
          p->job_id, g->n, g->n == 1 ? "" : "s", g->nlevels,
          g->nlevels == 1 ? "" : "s",
          p->ordering == JH_ORDER_DEPENDENCIES ? "dependencies" : "levels",
          p->max_parallel,
          p->ordering == JH_ORDER_LEVELS &&
                  p->level_overflow == JH_OVERFLOW_WINDOW
              ? ", level_overflow: window"
              : "");
  for (int lv = 0; lv < g->nlevels; lv++) {
    fprintf(out, "level %d:\n", lv);
    for (size_t i = 0; i < g->n; i++) {
      const jh_task_def *t = &p->tasks[i];
      if (g->level[i] != lv)
        continue;
      fprintf(out, "  %s (%s)%s", t->id, t->type,
              t->continue_on_error ? " [continue_on_error]" : "");
      for (size_t k = 0; k < g->nparents[i]; k++)
        fprintf(out, "%s%s", k == 0 ? " depends on " : ", ",
                p->tasks[g->parents[i][k]].id);
      fputc('\n', out);
    }
  }
}

/* Text inside a Graphviz quoted string. */
static void dot_text(const char *s, FILE *out) {
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
}

/* A string as a Graphviz quoted ID. */
static void dot_quoted(const char *s, FILE *out) {
  fputc('"', out);
  dot_text(s, out);
  fputc('"', out);
}

/* Text inside a Mermaid quoted label. */
static void mermaid_text(const char *s, FILE *out) {
  for (; *s != '\0'; s++) {
    if (*s == '"')
      fputs("#quot;", out);
    else
      fputc(*s, out);
  }
}

static void print_dot(const jh_graph *g, FILE *out) {
  const jh_pipeline *p = g->pipeline;
  fputs("digraph ", out);
  dot_quoted(p->job_id, out);
  fputs(" {\n  rankdir=TB;\n  node [shape=box];\n", out);
  for (int lv = 0; lv < g->nlevels; lv++) {
    fprintf(out, "  subgraph cluster_level_%d {\n    label=\"level %d\";\n", lv,
            lv);
    for (size_t i = 0; i < g->n; i++) {
      const jh_task_def *t = &p->tasks[i];
      if (g->level[i] != lv)
        continue;
      fputs("    ", out);
      dot_quoted(t->id, out);
      fputs(" [label=\"", out);
      dot_text(t->id, out);
      fputs("\\n", out);
      dot_text(t->type, out);
      fprintf(out, "%s\"%s];\n",
              t->continue_on_error ? "\\ncontinue_on_error" : "",
              t->continue_on_error ? ", style=dashed" : "");
    }
    fputs("  }\n", out);
  }
  for (size_t i = 0; i < g->n; i++)
    for (size_t k = 0; k < g->nparents[i]; k++) {
      fputs("  ", out);
      dot_quoted(p->tasks[g->parents[i][k]].id, out);
      fputs(" -> ", out);
      dot_quoted(p->tasks[i].id, out);
      fputs(";\n", out);
    }
  fputs("}\n", out);
}

static void print_mermaid(const jh_graph *g, FILE *out) {
  const jh_pipeline *p = g->pipeline;
  int any_coe = 0;
  fputs("flowchart TD\n", out);
  for (int lv = 0; lv < g->nlevels; lv++) {
    fprintf(out, "  subgraph level_%d [\"level %d\"]\n", lv, lv);
    for (size_t i = 0; i < g->n; i++) {
      const jh_task_def *t = &p->tasks[i];
      if (g->level[i] != lv)
        continue;
      fprintf(out, "    t%zu[\"", i);
      mermaid_text(t->id, out);
      fputs("<br/>", out);
      mermaid_text(t->type, out);
      fprintf(out, "%s\"]\n",
              t->continue_on_error ? "<br/>continue_on_error" : "");
    }
    fputs("  end\n", out);
  }
  for (size_t i = 0; i < g->n; i++)
    for (size_t k = 0; k < g->nparents[i]; k++)
      fprintf(out, "  t%zu --> t%zu\n", g->parents[i][k], i);
  for (size_t i = 0; i < g->n; i++)
    if (p->tasks[i].continue_on_error) {
      fprintf(out, "  class t%zu continueOnError\n", i);
      any_coe = 1;
    }
  if (any_coe)
    fputs("  classDef continueOnError stroke-dasharray: 5 5\n", out);
}

int jh_graph_print(const jh_graph *g, jh_graph_format fmt, FILE *out) {
  switch (fmt) {
  case JH_GRAPH_TEXT:
    print_text(g, out);
    break;
  case JH_GRAPH_DOT:
    print_dot(g, out);
    break;
  case JH_GRAPH_MERMAID:
    print_mermaid(g, out);
    break;
  default:
    return -EINVAL;
  }
  return ferror(out) ? -EIO : 0;
}

int jh_graph_print_steps(const jh_graph *g, FILE *out) {
  for (size_t k = 0; k < g->n; k++)
    fprintf(out, "Order %zu: %s (%s)\n", g->step_order[k],
            g->pipeline->tasks[g->steps[k]].id,
            g->pipeline->tasks[g->steps[k]].type);
  return ferror(out) ? -EIO : 0;
}
