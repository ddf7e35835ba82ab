/*
 * What every cmocka unit test includes first: cmocka needs these headers
 * before its own.  The Makefile's unit-test rule depends on this file.
 */
#ifndef RESETD_UNIT_H
#define RESETD_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#endif
