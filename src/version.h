/*
 * The version of resetd and of the libraries it runs with.
 */
#ifndef RESETD_VERSION_H
#define RESETD_VERSION_H

#include <stdio.h>

#define RESETD_VERSION "0.1.0"

/*
 * Print "resetd VERSION" and then one "NAME VERSION" line per linked
 * library, the version it reports at run time where it has a call for that
 * (so an upgraded shared library shows its own), followed by "(built with
 * VERSION)" when the headers resetd was compiled against said otherwise.
 */
void version_print(FILE *);

#endif
