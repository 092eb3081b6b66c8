/* status.c -- creg_strerror: status code -> static message.  Nothing else. */
#include "creg.h"

const char *
creg_strerror(int status)
{
    switch (status) {
    case CREG_OK:
        return "success";
    case CREG_ENONFINITE:
        return "a non-finite cost appeared during training";
    case CREG_EINVAL:
        return "invalid argument";
    default:
        return "unknown creg status";
    }
}
