/*
 * test_dmetaphone.c — Double Metaphone against codes worked out by hand
 * from the rules, letter by letter (the comment of each group says which
 * rules it exercises); then the preparation of the text (case, letters
 * with diacritics, ç, words, other scripts) and invalid UTF-8.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmetaphone.h"

typedef struct {
  const char *name, *primary, *alternate;
} vector;

/* Checks every vector, and names each one that fails. */
static void check_vectors(const vector *v, size_t n) {
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    char p[JH_DMETAPHONE_SIZE], a[JH_DMETAPHONE_SIZE];
    assert_int_equal(jh_double_metaphone(v[i].name, strlen(v[i].name), p, a),
                     0);
    if (strcmp(p, v[i].primary) != 0 || strcmp(a, v[i].alternate) != 0) {
      print_error("%s: %s/%s, expected %s/%s\n", v[i].name, p, a, v[i].primary,
                  v[i].alternate);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

#define CHECK(table) check_vectors(table, sizeof(table) / sizeof(table[0]))

static void test_reference_names(void **state) {
  /* the pairs the algorithm is known by */
  static const vector v[] = {
      {"Smith", "SM0", "XMT"},  {"Schmidt", "XMT", "SMT"},
      {"Thomas", "TMS", "TMS"}, {"Jose", "HS", "HS"},
      {"Xavier", "SF", "SFR"},
  };
  (void)state;
  CHECK(v);
}

static void test_c(void **state) {
  static const vector v[] = {
      {"Caesar", "SSR", "SSR"},        /* initial caesar */
      {"Chianti", "KNT", "KNT"},       /* chia */
      {"Michael", "MKL", "MXL"},       /* chae */
      {"Chemistry", "KMST", "KMST"},   /* initial Greek ch */
      {"Chorus", "KRS", "KRS"},        /* initial Greek ch */
      {"Charles", "XRLS", "XRLS"},     /* initial ch */
      {"March", "MRX", "MRK"},         /* ch after a consonant */
      {"Psychology", "SXLJ", "SKLK"},  /* ps, ch, -ogy */
      {"McHugh", "MK", "MK"},          /* mc: ch is K */
      {"Bacher", "PKR", "PKR"},        /* Germanic -ach- */
      {"Czerny", "SRN", "XRN"},        /* cz */
      {"Focaccia", "FKX", "FKX"},      /* -cia */
      {"Accident", "AKST", "AKST"},    /* acc before i */
      {"Bellocchio", "PLX", "PLX"},    /* Italian cch */
      {"Bacchus", "PKS", "PKS"},       /* cchu */
      {"McClellan", "MKLL", "MKLL"},   /* mcc: one K */
      {"Mac Caffrey", "MKFR", "MKFR"}, /* c across words */
      {"Yankelovich", "ANKL", "ANKL"}, /* final ch */
  };
  (void)state;
  CHECK(v);
}

static void test_d_g(void **state) {
  static const vector v[] = {
      {"Edge", "AJ", "AJ"},        /* dge */
      {"Edgar", "ATKR", "ATKR"},   /* dga */
      {"Dodgy", "TJ", "TJ"},       /* dgy */
      {"Laugh", "LF", "LF"},       /* ugh: F */
      {"Tough", "TF", "TF"},       /* ugh: F */
      {"Gough", "KF", "KF"},       /* initial gh, then ugh */
      {"Hugh", "H", "H"},          /* gh after h: silent */
      {"Bough", "P", "P"},         /* gh three after b: silent */
      {"Night", "NT", "NT"},       /* igh */
      {"Ghislane", "JLN", "JLN"},  /* initial ghi, then isl */
      {"Cagney", "KKN", "KKN"},    /* gney */
      {"Agnes", "AKNS", "ANS"},    /* vowel then gn */
      {"Tagliaro", "TKLR", "TLR"}, /* gli */
      {"Gerald", "KRLT", "JRLT"},  /* initial ge- */
      {"Danger", "TNJR", "TNKR"},  /* -ger in danger */
      {"Biaggi", "PJ", "PK"},      /* aggi */
      {"Rogier", "RJ", "RJR"},     /* gier, French final -ier */
      {"Gallegos", "KLKS", "KKS"}, /* Spanish ll */
  };
  (void)state;
  CHECK(v);
}

static void test_h_j_l_m_p(void **state) {
  static const vector v[] = {
      {"Joseph", "JSF", "HSF"},        /* jose- not alone, ph */
      {"San Jacinto", "SNHS", "SNHS"}, /* Spanish san */
      {"Jankelowicz", "JNKL", "ANKL"}, /* initial j, wicz */
      {"Bajador", "PJTR", "PHTR"},     /* Spanish -ja- */
      {"Raj", "RJ", "R"},              /* final j */
      {"Jean-Pierre", "JNPR", "ANPR"}, /* hyphen between words, rr */
      {"Cabrillo", "KPRL", "KPR"},     /* Spanish -illo */
      {"Campbell", "KMPL", "KMPL"},    /* pb */
      {"Raspberry", "RSPR", "RSPR"},   /* pb, rr */
      {"Thumb", "0M", "TM"},           /* th, final umb */
      {"Dumb", "TM", "TM"},            /* final umb */
      {"Hochmeier", "HKMR", "HKMR"},   /* initial h, och, -meier */
      {"Whitney", "ATN", "ATN"},       /* wh, h after a consonant */
  };
  (void)state;
  CHECK(v);
}

static void test_s_t(void **state) {
  static const vector v[] = {
      {"Sugar", "XKR", "SKR"},       /* initial sugar */
      {"Island", "ALNT", "ALNT"},    /* isl */
      {"Carlisle", "KRLL", "KRLL"},  /* isl */
      {"School", "SKL", "SKL"},      /* Dutch sch */
      {"Schenker", "XNKR", "SKNK"},  /* schen */
      {"Schneider", "XNTR", "SNTR"}, /* initial sch before a consonant */
      {"Snider", "SNTR", "XNTR"},    /* initial sn */
      {"Schwarz", "XRS", "XFRT"},    /* sch then w, Slavo-Germanic z */
      {"Resnais", "RSN", "RSNS"},    /* French final -ais */
      {"Artois", "ART", "ARTS"},     /* French final -ois */
      {"Nation", "NXN", "NXN"},      /* tion */
      {"Thames", "TMS", "TMS"},      /* tham */
      {"Matthew", "M0", "MTF"},      /* tth, final w after a vowel */
  };
  (void)state;
  CHECK(v);
}

static void test_w_x_z_initials(void **state) {
  static const vector v[] = {
      {"Wasserman", "ASRM", "FSRM"},  /* initial w before a vowel, ss */
      {"Vasserman", "FSRM", "FSRM"},  /* v */
      {"Womo", "AM", "FM"},           /* initial w */
      {"Uomo", "AM", "AM"},           /* initial vowel */
      {"Arnow", "ARN", "ARNF"},       /* final w after a vowel */
      {"Arnoff", "ARNF", "ARNF"},     /* ff */
      {"Filipowicz", "FLPT", "FLPF"}, /* wicz */
      {"Wright", "RT", "RT"},         /* initial wr */
      {"Knight", "NT", "NT"},         /* initial kn */
      {"Gnome", "NM", "NM"},          /* initial gn */
      {"Pneumonia", "NMN", "NMN"},    /* initial pn */
      {"Breaux", "PR", "PR"},         /* French final -eaux */
      {"Zhao", "J", "J"},             /* zh */
      {"Pizza", "PS", "PTS"},         /* zza */
      {"Zola", "SL", "SL"},           /* z */
  };
  (void)state;
  CHECK(v);
}

static void test_preparation(void **state) {
  static const vector v[] = {
      {"smith", "SM0", "XMT"},          /* case does not matter */
      {"  SMITH  ", "SM0", "XMT"},      /* nor white space around */
      {"François", "FRNS", "FRNS"},     /* ç is S; final -ois */
      {"Francois", "FRNK", "FRNK"},     /* c before o is K */
      {"Müller", "MLR", "MLR"},         /* ü is U */
      {"Mu\xcc\x88ller", "MLR", "MLR"}, /* decomposed ü */
      {"Peña", "PN", "PN"},             /* ñ is N */
      {"Łukasz", "LKS", "LKX"},         /* ł is L; sz */
      {"Øster", "ASTR", "ASTR"},        /* ø is O, initial vowel */
      {"", "", ""},
      {"123 -", "", ""},
      {"Иван", "", ""}, /* another script: no code */
  };
  char p[JH_DMETAPHONE_SIZE] = "x", a[JH_DMETAPHONE_SIZE] = "x";
  (void)state;
  CHECK(v);
  assert_int_equal(jh_double_metaphone("Sm\xffith", 6, p, a), -EILSEQ);
  assert_string_equal(p, "");
  assert_string_equal(a, "");
}

static void test_four_at_most(void **state) {
  static const vector v[] = {
      {"Washington", "AXNK", "FXNK"},
      {"Accidentally", "AKST", "AKST"},
  };
  (void)state;
  CHECK(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_names),
      cmocka_unit_test(test_c),
      cmocka_unit_test(test_d_g),
      cmocka_unit_test(test_h_j_l_m_p),
      cmocka_unit_test(test_s_t),
      cmocka_unit_test(test_w_x_z_initials),
      cmocka_unit_test(test_preparation),
      cmocka_unit_test(test_four_at_most),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
