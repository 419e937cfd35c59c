# host/pipeline.mk — see Makefile.am; owned by one area of the code.
