/* A shared object that exports no jobhost descriptor. */
int no_descriptor_answer(void);
int no_descriptor_answer(void) { return 42; }
