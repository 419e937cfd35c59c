/*
 * dmetaphone.c — Double Metaphone (dmetaphone.h), written from the
 * description of its rules.
 *
 * The name is first reduced to uppercase Latin letters A-Z (diacritics
 * dropped, ç kept apart because it sounds S, ø æ œ ß ł đ spelled out),
 * with one space between its words. The coder then walks it from left
 * to right: each letter looks at its neighbours, adds a sound to the
 * primary code, the alternate code or both, and says how many letters it
 * used. A position past the end reads as a space, before the start as
 * nothing, so that the rules can look around freely.
 */
#include "config.h"

#include "dmetaphone.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* ç in the prepared name: a letter of its own, never a vowel. */
#define CEDILLA '\x01'
#define CODE_MAX 4

typedef struct {
  const char *w; /* the prepared name */
  int len, last;
  int slavo_germanic; /* W, K, CZ or WITZ: Slavic or Germanic spelling */
  char pri[CODE_MAX + 1], alt[CODE_MAX + 1];
  size_t npri, nalt;
} dm;

/* ---- looking around ------------------------------------------------- */

static char at(const dm *d, int i) {
  if (i < 0)
    return '\0';
  return i < d->len ? d->w[i] : ' ';
}

static int is_vowel(const dm *d, int i) {
  char c = at(d, i);
  return c != '\0' && strchr("AEIOUY", c) != NULL;
}

/* Whether one of the '|'-separated options of opts is spelled at i. */
static int at_any(const dm *d, int i, const char *opts) {
  if (i < 0)
    return 0;
  const char *o = opts;
  for (;;) {
    int k = 0;
    while (o[k] != '\0' && o[k] != '|' && at(d, i + k) == o[k])
      k++;
    if (o[k] == '\0' || o[k] == '|')
      return 1;
    o = strchr(o + k, '|');
    if (o == NULL)
      return 0;
    o++;
  }
}

/* A name with a Dutch or German prefix: van, von, sch. */
static int germanic(const dm *d) { return at_any(d, 0, "VAN |VON |SCH"); }

/* ---- writing the codes ---------------------------------------------- */

static void add_to(char *code, size_t *n, const char *sound) {
  for (; *sound != '\0' && *n < CODE_MAX; sound++)
    code[(*n)++] = *sound;
  code[*n] = '\0';
}

/* Sound p to the primary code and a to the alternate one. */
static void emit2(dm *d, const char *p, const char *a) {
  add_to(d->pri, &d->npri, p);
  add_to(d->alt, &d->nalt, a);
}

static void emit(dm *d, const char *sound) { emit2(d, sound, sound); }

/* A letter coded as sound, taking two positions when doubled. */
static int plain(dm *d, int i, const char *sound) {
  emit(d, sound);
  return at(d, i + 1) == at(d, i) ? 2 : 1;
}

/* ---- the letters ---------------------------------------------------- */

/* CH: K in Greek and Germanic words, X (as in "church") otherwise. */
static int code_ch(dm *d, int i) {
  if (i > 0 && at_any(d, i, "CHAE")) { /* Michael */
    emit2(d, "K", "X");
    return 2;
  }
  if (i == 0 && at_any(d, i + 1, "HARAC|HARIS|HOR|HYM|HIA|HEM") &&
      !at_any(d, 0, "CHORE")) { /* chorus, chemistry, but chore */
    emit(d, "K");
    return 2;
  }
  int hard = germanic(d) || at_any(d, i - 2, "ORCHES|ARCHIT|ORCHID") ||
             at_any(d, i + 2, "T|S") ||
             ((at_any(d, i - 1, "A|O|U|E") || i == 0) &&
              at_any(d, i + 2, "L|R|N|M|B|H|F|V|W| "));
  if (hard)
    emit(d, "K");
  else if (i == 0)
    emit(d, "X");
  else if (at_any(d, 0, "MC"))
    emit(d, "K");
  else
    emit2(d, "X", "K");
  return 2;
}

/* CC: KS before I, E or H as in "accident", X in Italian words. */
static int code_cc(dm *d, int i) {
  if (at_any(d, i + 2, "I|E|H") && !at_any(d, i + 2, "HU")) {
    if ((i == 1 && at(d, 0) == 'A') || at_any(d, i - 1, "UCCEE|UCCES"))
      emit(d, "KS");
    else
      emit(d, "X");
    return 3;
  }
  emit(d, "K");
  return 2;
}

/* C after the special words: soft before I, E, Y, else K. */
static int code_c_rest(dm *d, int i) {
  if (at_any(d, i, "CK|CG|CQ")) {
    emit(d, "K");
    return 2;
  }
  if (at_any(d, i, "CI|CE|CY")) {
    if (at_any(d, i, "CIO|CIE|CIA"))
      emit2(d, "S", "X");
    else
      emit(d, "S");
    return 2;
  }
  emit(d, "K");
  if (at_any(d, i + 1, " C| Q| G")) /* Mac Caffrey, Mac Gregor */
    return 3;
  if (at_any(d, i + 1, "C|K|Q") && !at_any(d, i + 1, "CE|CI"))
    return 2;
  return 1;
}

static int code_c(dm *d, int i) {
  if (i > 1 && !is_vowel(d, i - 2) && at_any(d, i - 1, "ACH") &&
      at(d, i + 2) != 'I' &&
      (at(d, i + 2) != 'E' || at_any(d, i - 2, "BACHER|MACHER"))) {
    emit(d, "K"); /* Germanic -ach- */
    return 2;
  }
  if (i == 0 && at_any(d, i, "CAESAR")) {
    emit(d, "S");
    return 2;
  }
  if (at_any(d, i, "CHIA")) { /* Chianti */
    emit(d, "K");
    return 2;
  }
  if (at_any(d, i, "CH"))
    return code_ch(d, i);
  if (at_any(d, i, "CZ") && !at_any(d, i - 2, "WICZ")) { /* Czerny */
    emit2(d, "S", "X");
    return 2;
  }
  if (at_any(d, i + 1, "CIA")) { /* focaccia */
    emit(d, "X");
    return 3;
  }
  if (at_any(d, i, "CC") && !(i == 1 && at(d, 0) == 'M'))
    return code_cc(d, i);
  return code_c_rest(d, i);
}

static int code_d(dm *d, int i) {
  if (at_any(d, i, "DG")) {
    if (at_any(d, i + 2, "I|E|Y")) { /* edge */
      emit(d, "J");
      return 3;
    }
    emit(d, "TK"); /* Edgar */
    return 2;
  }
  emit(d, "T");
  return at_any(d, i + 1, "T|D") ? 2 : 1;
}

/* GH: silent, F as in "laugh", K, or J at the start before I. */
static int code_gh(dm *d, int i) {
  if (i > 0 && !is_vowel(d, i - 1)) {
    emit(d, "K");
    return 2;
  }
  if (i == 0) {
    emit(d, at(d, i + 2) == 'I' ? "J" : "K");
    return 2;
  }
  if ((i > 1 && at_any(d, i - 2, "B|H|D")) ||
      (i > 2 && at_any(d, i - 3, "B|H|D")) ||
      (i > 3 && at_any(d, i - 4, "B|H")))
    return 2; /* Hugh, bough, broughton: silent */
  if (i > 2 && at(d, i - 1) == 'U' && at_any(d, i - 3, "C|G|L|R|T"))
    emit(d, "F");
  else if (at(d, i - 1) != 'I')
    emit(d, "K");
  return 2;
}

static int code_gn(dm *d, int i) {
  if (i == 1 && is_vowel(d, 0) && !d->slavo_germanic)
    emit2(d, "KN", "N");
  else if (!at_any(d, i + 2, "EY") && !d->slavo_germanic)
    emit2(d, "N", "KN");
  else
    emit(d, "KN"); /* Cagney */
  return 2;
}

/* G before E, I or Y: J or K depending on the origin of the word. */
static int code_g_soft(dm *d, int i) {
  if (i == 0 && (at(d, i + 1) == 'Y' ||
                 at_any(d, i + 1, "ES|EP|EB|EL|EY|IB|IL|IN|IE|EI|ER"))) {
    emit2(d, "K", "J");
    return 2;
  }
  if ((at_any(d, i + 1, "ER") || at(d, i + 1) == 'Y') &&
      !at_any(d, 0, "DANGER|RANGER|MANGER") && !at_any(d, i - 1, "E|I") &&
      !at_any(d, i - 1, "RGY|OGY")) {
    emit2(d, "K", "J");
    return 2;
  }
  if (germanic(d) || at_any(d, i + 1, "ET"))
    emit(d, "K");
  else if (at_any(d, i + 1, "IER "))
    emit(d, "J");
  else
    emit2(d, "J", "K");
  return 2;
}

static int code_g(dm *d, int i) {
  if (at(d, i + 1) == 'H')
    return code_gh(d, i);
  if (at(d, i + 1) == 'N')
    return code_gn(d, i);
  if (at_any(d, i + 1, "LI") && !d->slavo_germanic) { /* Tagliaro */
    emit2(d, "KL", "L");
    return 2;
  }
  /* before E, I or Y (every start code_g_soft looks for is one) */
  if (at_any(d, i + 1, "E|I|Y") || at_any(d, i - 1, "AGGI|OGGI"))
    return code_g_soft(d, i);
  return plain(d, i, "K");
}

static int code_h(dm *d, int i) {
  if ((i == 0 || is_vowel(d, i - 1)) && is_vowel(d, i + 1)) {
    emit(d, "H");
    return 2;
  }
  return 1;
}

static int code_j(dm *d, int i) {
  if (at_any(d, i, "JOSE") || at_any(d, 0, "SAN ")) { /* Spanish J */
    if ((i == 0 && at(d, i + 4) == ' ') || at_any(d, 0, "SAN "))
      emit(d, "H");
    else
      emit2(d, "J", "H");
    return 1;
  }
  if (i == 0)
    emit2(d, "J", "A"); /* Jankelowicz, Yankelovich */
  else if (is_vowel(d, i - 1) && !d->slavo_germanic &&
           (at(d, i + 1) == 'A' || at(d, i + 1) == 'O'))
    emit2(d, "J", "H");
  else if (i == d->last)
    emit2(d, "J", "");
  else if (!at_any(d, i + 1, "L|T|K|S|N|M|B|Z") && !at_any(d, i - 1, "S|K|L"))
    emit(d, "J");
  return at(d, i + 1) == 'J' ? 2 : 1;
}

static int code_l(dm *d, int i) {
  if (at(d, i + 1) != 'L') {
    emit(d, "L");
    return 1;
  }
  /* Spanish -ll- (Cabrillo, Gallegos): no L in the alternate code */
  if ((i == d->len - 3 && at_any(d, i - 1, "ILLO|ILLA|ALLE")) ||
      ((at_any(d, d->last - 1, "AS|OS") || at_any(d, d->last, "A|O")) &&
       at_any(d, i - 1, "ALLE")))
    emit2(d, "L", "");
  else
    emit(d, "L");
  return 2;
}

static int code_m(dm *d, int i) {
  emit(d, "M");
  if (at_any(d, i - 1, "UMB") && (i + 1 == d->last || at_any(d, i + 2, "ER")))
    return 2; /* thumb, dumber: the B is silent */
  return at(d, i + 1) == 'M' ? 2 : 1;
}

static int code_p(dm *d, int i) {
  if (at(d, i + 1) == 'H') {
    emit(d, "F");
    return 2;
  }
  emit(d, "P");
  return at_any(d, i + 1, "P|B") ? 2 : 1; /* Campbell */
}

static int code_r(dm *d, int i) {
  /* French final -ier (Rogier), but not Germanic -meier, -maier */
  if (i == d->last && !d->slavo_germanic && at_any(d, i - 2, "IE") &&
      !at_any(d, i - 4, "ME|MA"))
    emit2(d, "", "R");
  else
    emit(d, "R");
  return at(d, i + 1) == 'R' ? 2 : 1;
}

/* SCH and SC. */
static int code_sc(dm *d, int i) {
  if (at(d, i + 2) == 'H') {
    if (at_any(d, i + 3, "OO|ER|EN|UY|ED|EM")) { /* Dutch: school */
      if (at_any(d, i + 3, "ER|EN"))
        emit2(d, "X", "SK");
      else
        emit(d, "SK");
    } else if (i == 0 && !is_vowel(d, 3) && at(d, 3) != 'W') {
      emit2(d, "X", "S"); /* Schmidt, Schneider */
    } else {
      emit(d, "X");
    }
    return 3;
  }
  emit(d, at_any(d, i + 2, "I|E|Y") ? "S" : "SK");
  return 3;
}

static int code_s(dm *d, int i) {
  if (at_any(d, i - 1, "ISL|YSL")) /* island, Carlisle */
    return 1;
  if (i == 0 && at_any(d, i, "SUGAR")) {
    emit2(d, "X", "S");
    return 1;
  }
  if (at_any(d, i, "SH")) {
    emit(d, at_any(d, i + 1, "HEIM|HOEK|HOLM|HOLZ") ? "S" : "X");
    return 2;
  }
  if (at_any(d, i, "SIO|SIA|SIAN")) {
    emit2(d, "S", d->slavo_germanic ? "S" : "X");
    return 3;
  }
  if ((i == 0 && at_any(d, i + 1, "M|N|L|W")) || at(d, i + 1) == 'Z') {
    emit2(d, "S", "X"); /* Smith for Schmidt, Slavic -sz- */
    return at(d, i + 1) == 'Z' ? 2 : 1;
  }
  if (at_any(d, i, "SC"))
    return code_sc(d, i);
  if (i == d->last && at_any(d, i - 2, "AI|OI")) /* French: Artois */
    emit2(d, "", "S");
  else
    emit(d, "S");
  return at_any(d, i + 1, "S|Z") ? 2 : 1;
}

static int code_t(dm *d, int i) {
  if (at_any(d, i, "TION|TIA|TCH")) {
    emit(d, "X");
    return 3;
  }
  if (at_any(d, i, "TH|TTH")) {
    if (at_any(d, i + 2, "OM|AM") || germanic(d))
      emit(d, "T"); /* Thomas, Thames */
    else
      emit2(d, "0", "T");
    return 2;
  }
  emit(d, "T");
  return at_any(d, i + 1, "T|D") ? 2 : 1;
}

static int code_w(dm *d, int i) {
  if (at_any(d, i, "WR")) {
    emit(d, "R");
    return 2;
  }
  if (i == 0 && is_vowel(d, i + 1))
    emit2(d, "A", "F"); /* Wasserman, Vasserman */
  else if (i == 0 && at(d, i + 1) == 'H')
    emit(d, "A");
  if ((i == d->last && is_vowel(d, i - 1)) ||
      at_any(d, i - 1, "EWSKI|EWSKY|OWSKI|OWSKY") || at_any(d, 0, "SCH")) {
    emit2(d, "", "F"); /* Arnow, Arnoff */
    return 1;
  }
  if (at_any(d, i, "WICZ|WITZ")) {
    emit2(d, "TS", "FX");
    return 4;
  }
  return 1;
}

static int code_x(dm *d, int i) {
  /* French final -x is silent: Breaux */
  if (!(i == d->last &&
        (at_any(d, i - 3, "IAU|EAU") || at_any(d, i - 2, "AU|OU"))))
    emit(d, "KS");
  return at_any(d, i + 1, "C|X") ? 2 : 1;
}

static int code_z(dm *d, int i) {
  if (at(d, i + 1) == 'H') { /* Zhao */
    emit(d, "J");
    return 2;
  }
  if (at_any(d, i + 1, "ZO|ZI|ZA") ||
      (d->slavo_germanic && i > 0 && at(d, i - 1) != 'T'))
    emit2(d, "S", "TS");
  else
    emit(d, "S");
  return at(d, i + 1) == 'Z' ? 2 : 1;
}

typedef int (*letter_coder)(dm *d, int i);

/* The letters with rules of their own, from A to Z. */
static const letter_coder coders[26] = {
    ['C' - 'A'] = code_c, ['D' - 'A'] = code_d, ['G' - 'A'] = code_g,
    ['H' - 'A'] = code_h, ['J' - 'A'] = code_j, ['L' - 'A'] = code_l,
    ['M' - 'A'] = code_m, ['P' - 'A'] = code_p, ['R' - 'A'] = code_r,
    ['S' - 'A'] = code_s, ['T' - 'A'] = code_t, ['W' - 'A'] = code_w,
    ['X' - 'A'] = code_x, ['Z' - 'A'] = code_z};

/* The sound of the letter at i; how many positions it used. */
static int code_letter(dm *d, int i) {
  /* the letters with one sound, each followed by its sound */
  static const char plain_sounds[] = "BPFFKKNNQKVF";
  char c = at(d, i);
  if (c == CEDILLA) {
    emit(d, "S");
    return 1;
  }
  if (c < 'A' || c > 'Z')
    return 1; /* the space between words */
  if (is_vowel(d, i)) {
    if (i == 0)
      emit(d, "A");
    return 1;
  }
  if (coders[c - 'A'] != NULL)
    return coders[c - 'A'](d, i);
  for (const char *p = plain_sounds; *p != '\0'; p += 2)
    if (p[0] == c) {
      char sound[2] = {p[1], '\0'};
      return plain(d, i, sound);
    }
  return 1; /* not reached: every letter is a vowel, coded or plain */
}

static void encode(dm *d) {
  int i = 0;
  d->slavo_germanic = strchr(d->w, 'W') != NULL || strchr(d->w, 'K') != NULL ||
                      strstr(d->w, "CZ") != NULL;
  if (at_any(d, 0, "GN|KN|PN|WR|PS"))
    i = 1; /* the first letter is silent */
  if (at(d, 0) == 'X') {
    emit(d, "S"); /* Xavier */
    i = 1;
  }
  while (i < d->len && (d->npri < CODE_MAX || d->nalt < CODE_MAX))
    i += code_letter(d, i);
}

/* ---- preparing the name --------------------------------------------- */

/* What an uppercase code point gives in the prepared name: "" for
 * nothing, " " between words. */
static const char *prepare_uc(ucs4_t uc, char one[2]) {
  switch (uc) {
  case 0x00C7: /* Ç */
    one[0] = CEDILLA;
    return one;
  case 0x00D8: /* Ø */
    return "O";
  case 0x00C6: /* Æ */
    return "AE";
  case 0x0152: /* Œ */
    return "OE";
  case 0x1E9E: /* capital sharp s (ß itself is uppercased to SS) */
    return "SS";
  case 0x0141: /* Ł */
    return "L";
  case 0x0110: /* Đ */
    return "D";
  default:
    break;
  }
  if (uc_is_general_category(uc, UC_CATEGORY_M))
    return ""; /* a mark left over after composition */
  if (!uc_is_general_category(uc, UC_CATEGORY_L))
    return " ";
  ucs4_t parts[UC_DECOMPOSITION_MAX_LENGTH];
  while (uc_canonical_decomposition(uc, parts) > 0)
    uc = parts[0]; /* the base letter: É → E, Ǻ → Å → A */
  if (uc >= 'A' && uc <= 'Z') {
    one[0] = (char)uc;
    return one;
  }
  return ""; /* a letter of another script */
}

/* The prepared name of up (uppercase NFC UTF-8) into w (room for len + 1
 * bytes: no code point gives more bytes than it has). */
static int prepare(const uint8_t *up, size_t len, char *w) {
  int n = 0;
  for (size_t i = 0; i < len;) {
    ucs4_t uc;
    char one[2] = {0, 0};
    i += (size_t)u8_mbtouc(&uc, up + i, len - i);
    const char *what = prepare_uc(uc, one);
    if (what[0] == ' ' && (n == 0 || w[n - 1] == ' '))
      continue;
    for (; *what != '\0'; what++)
      w[n++] = *what;
  }
  while (n > 0 && w[n - 1] == ' ')
    n--;
  w[n] = '\0';
  return n;
}

int jh_double_metaphone(const char *s, size_t n,
                        char primary[JH_DMETAPHONE_SIZE],
                        char alternate[JH_DMETAPHONE_SIZE]) {
  primary[0] = alternate[0] = '\0';
  if (u8_check((const uint8_t *)s, n) != NULL)
    return -EILSEQ;
  size_t len = 0;
  uint8_t *up = u8_toupper((const uint8_t *)s, n, NULL, UNINORM_NFC, NULL,
                           &len);
  if (up == NULL)
    return errno == ENOMEM ? -ENOMEM : -EILSEQ;
  if (len >= INT_MAX) { /* positions are ints: no name is that long */
    free(up);
    return -ENOMEM;
  }
  char *w = malloc(len + 1);
  if (w == NULL) {
    free(up);
    return -ENOMEM;
  }
  dm d = {.w = w};
  d.len = prepare(up, len, w);
  d.last = d.len - 1;
  free(up);
  encode(&d);
  free(w);
  memcpy(primary, d.pri, d.npri + 1);
  memcpy(alternate, d.alt, d.nalt + 1);
  return 0;
}
