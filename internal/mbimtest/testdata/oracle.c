/* Differential-test oracle: decodes MBIM messages with libmbim and prints
 * libmbim's rendering of them. Built and run only by gombim's tests.
 *
 * Input, one per line:  <mbimex-major> <mbimex-minor> <hex message>
 * Output per message:   libmbim's printable text, then a line "\036".
 */
#include <libmbim-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    mbim_utils_set_show_personal_info(TRUE);

    while ((n = getline(&line, &cap, stdin)) > 0) {
        unsigned major = 1, minor = 0;
        int used = 0;
        if (sscanf(line, "%u %u %n", &major, &minor, &used) < 2) {
            printf("oracle: bad input line\n\036\n");
            fflush(stdout);
            continue;
        }
        const char *hex = line + used;
        size_t len = strlen(hex);
        guint8 *buf = g_malloc(len / 2 + 1);
        size_t blen = 0;
        for (size_t i = 0; i + 1 < len; i += 2) {
            int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
            if (hi < 0 || lo < 0)
                break;
            buf[blen++] = (guint8)(hi << 4 | lo);
        }
        GError *error = NULL;
        MbimMessage *msg = mbim_message_new(buf, blen);
        gchar *text = mbim_message_get_printable_full(msg, major, minor, "", FALSE, &error);
        if (text)
            fputs(text, stdout);
        if (error)
            printf("\noracle-error: %s\n", error->message);
        printf("\n\036\n");
        fflush(stdout);
        g_clear_error(&error);
        g_free(text);
        mbim_message_unref(msg);
        g_free(buf);
    }
    free(line);
    return 0;
}
