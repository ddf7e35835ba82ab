/*
 * What every unit test includes: cmocka, after the headers it needs.
 */
#ifndef RESETD_UNIT_H
#define RESETD_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#endif
