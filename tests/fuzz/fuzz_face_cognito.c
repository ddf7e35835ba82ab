/*
 * Fuzz the cognito face whole: random requests through the route table into
 * its handlers, on a real engine and store (face.h says what is checked).
 */
#define FACE "cognito"

#include "face.h"
