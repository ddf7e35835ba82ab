/*
 * Fuzz the admin face whole: random requests through the admin listener's
 * route table into its handlers, on a real engine and store (face.h says
 * what is checked); $T in an input is the admin token.
 */
#define FACE "admin"
#define FACE_ADMIN_LISTENER 1

#include "face.h"
