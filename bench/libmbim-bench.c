/*
 * libmbim-bench: times libmbim's typed parsers on the shared MBIM vectors, for
 * comparison with gombim's BenchmarkDecode (see bench/compare.sh).
 *
 * For every line "name<TAB>hex" of the vector file (a whole COMMAND_DONE
 * message), one operation is what a libmbim user does with a message off the
 * wire: mbim_message_new() (which copies the bytes), the typed
 * mbim_message_<cid>_response_parse() with every out parameter requested,
 * then freeing the outputs (g_free, *_array_free) and the message.
 *
 * The iteration count is calibrated so that each of the R batches of a vector
 * lasts about T/R; the median batch is reported.
 *
 * Output, one line per vector:
 *     name<TAB>parse_ns_per_op<TAB>build_ns_per_op<TAB>parse_cpu_ns_per_op
 * ns/op is wall-clock time, like Go's ns/op; cpu ns/op is the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), which time slices lost to other processes
 * on a busy machine do not inflate. build is "-": libmbim 1.28 has no
 * builder for these response messages. Lines starting with '#' are notes:
 *     #same-layout-builder<TAB>name<TAB>function<TAB>ns_per_op<TAB>cpu_ns_per_op
 * times a builder of another message with the same layout (the IP
 * configuration query has the response's layout), with the message freed.
 *
 * Build:  gcc -O2 -o libmbim-bench libmbim-bench.c $(pkg-config --cflags --libs mbim-glib)
 * Usage:  libmbim-bench [-t total_ms_per_vector] [-r batches] [-v] vectors.hex
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <libmbim-glib.h>

static volatile guint64 sink;

/* ---------------------------------------------------------------------- */
/* One operation per vector: message copy + typed parse + free.            */

static gboolean
op_device_caps (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    MbimDeviceType device_type;
    MbimCellularClass cellular_class;
    MbimVoiceClass voice_class;
    MbimSimClass sim_class;
    MbimDataClass data_class;
    MbimSmsCaps sms_caps;
    MbimCtrlCaps control_caps;
    guint32 max_sessions;
    gchar *custom_data_class = NULL, *device_id = NULL, *firmware_info = NULL, *hardware_info = NULL;
    gboolean ok = mbim_message_device_caps_response_parse (m,
        &device_type, &cellular_class, &voice_class, &sim_class, &data_class,
        &sms_caps, &control_caps, &max_sessions,
        &custom_data_class, &device_id, &firmware_info, &hardware_info, error);
    if (ok)
        sink += device_type + data_class + max_sessions + (device_id ? (guint8) device_id[0] : 0);
    g_free (custom_data_class);
    g_free (device_id);
    g_free (firmware_info);
    g_free (hardware_info);
    mbim_message_unref (m);
    return ok;
}

static gboolean
op_register_state (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    MbimNwError nw_error;
    MbimRegisterState register_state;
    MbimRegisterMode register_mode;
    MbimDataClass available_data_classes;
    MbimCellularClass current_cellular_class;
    gchar *provider_id = NULL, *provider_name = NULL, *roaming_text = NULL;
    MbimRegistrationFlag registration_flag;
    gboolean ok = mbim_message_register_state_response_parse (m,
        &nw_error, &register_state, &register_mode, &available_data_classes,
        &current_cellular_class, &provider_id, &provider_name, &roaming_text,
        &registration_flag, error);
    if (ok)
        sink += register_state + registration_flag + (provider_id ? (guint8) provider_id[0] : 0);
    g_free (provider_id);
    g_free (provider_name);
    g_free (roaming_text);
    mbim_message_unref (m);
    return ok;
}

static gboolean
op_ip_configuration (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    guint32 session_id, v4_count, v6_count, v4_dns_count, v6_dns_count, v4_mtu, v6_mtu;
    MbimIPConfigurationAvailableFlag v4_avail, v6_avail;
    MbimIPv4ElementArray *v4 = NULL;
    MbimIPv6ElementArray *v6 = NULL;
    const MbimIPv4 *v4_gw = NULL; /* owned by the message */
    const MbimIPv6 *v6_gw = NULL;
    MbimIPv4 *v4_dns = NULL;
    MbimIPv6 *v6_dns = NULL;
    gboolean ok = mbim_message_ip_configuration_response_parse (m,
        &session_id, &v4_avail, &v6_avail,
        &v4_count, &v4, &v6_count, &v6, &v4_gw, &v6_gw,
        &v4_dns_count, &v4_dns, &v6_dns_count, &v6_dns,
        &v4_mtu, &v6_mtu, error);
    if (ok)
        sink += v4_count + v6_count + v4_dns_count + v6_dns_count + v4_mtu +
                (v4_gw ? v4_gw->addr[0] : 0) + (v4 && v4[0] ? v4[0]->on_link_prefix_length : 0);
    mbim_ipv4_element_array_free (v4);
    mbim_ipv6_element_array_free (v6);
    g_free (v4_dns);
    g_free (v6_dns);
    mbim_message_unref (m);
    return ok;
}

static gboolean
op_visible_providers (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    guint32 count = 0;
    MbimProviderArray *providers = NULL;
    gboolean ok = mbim_message_visible_providers_response_parse (m, &count, &providers, error);
    if (ok)
        sink += count + (providers && providers[0] ? providers[0]->rssi : 0);
    mbim_provider_array_free (providers);
    mbim_message_unref (m);
    return ok;
}

static gboolean
op_signal_state (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    guint32 rssi, error_rate, interval, rssi_threshold, error_rate_threshold;
    gboolean ok = mbim_message_signal_state_response_parse (m,
        &rssi, &error_rate, &interval, &rssi_threshold, &error_rate_threshold, error);
    if (ok)
        sink += rssi + error_rate + interval + rssi_threshold + error_rate_threshold;
    mbim_message_unref (m);
    return ok;
}

/* ---------------------------------------------------------------------- */
/* Builder of the same layout: the IP configuration query.                 */

typedef struct {
    guint32 session_id, v4_count, v6_count, v4_dns_count, v6_dns_count, v4_mtu, v6_mtu;
    MbimIPConfigurationAvailableFlag v4_avail, v6_avail;
    MbimIPv4ElementArray *v4;
    MbimIPv6ElementArray *v6;
    MbimIPv4 v4_gw;
    MbimIPv6 v6_gw;
    gboolean has_v4_gw, has_v6_gw;
    MbimIPv4 *v4_dns;
    MbimIPv6 *v6_dns;
} IpConfig;

static IpConfig ipc;

static gboolean
ip_configuration_load (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m = mbim_message_new (raw, (guint32) len);
    const MbimIPv4 *v4_gw = NULL;
    const MbimIPv6 *v6_gw = NULL;
    gboolean ok = mbim_message_ip_configuration_response_parse (m,
        &ipc.session_id, &ipc.v4_avail, &ipc.v6_avail,
        &ipc.v4_count, &ipc.v4, &ipc.v6_count, &ipc.v6, &v4_gw, &v6_gw,
        &ipc.v4_dns_count, &ipc.v4_dns, &ipc.v6_dns_count, &ipc.v6_dns,
        &ipc.v4_mtu, &ipc.v6_mtu, error);
    if (ok) {
        if ((ipc.has_v4_gw = v4_gw != NULL))
            ipc.v4_gw = *v4_gw;
        if ((ipc.has_v6_gw = v6_gw != NULL))
            ipc.v6_gw = *v6_gw;
    }
    mbim_message_unref (m);
    return ok;
}

static gboolean
op_ip_configuration_build (const guint8 *raw, gsize len, GError **error)
{
    MbimMessage *m;

    (void) raw;
    (void) len;
    m = mbim_message_ip_configuration_query_new (ipc.session_id, ipc.v4_avail, ipc.v6_avail,
        ipc.v4_count, (const MbimIPv4Element *const *) ipc.v4,
        ipc.v6_count, (const MbimIPv6Element *const *) ipc.v6,
        ipc.has_v4_gw ? &ipc.v4_gw : NULL, ipc.has_v6_gw ? &ipc.v6_gw : NULL,
        ipc.v4_dns_count, ipc.v4_dns, ipc.v6_dns_count, ipc.v6_dns,
        ipc.v4_mtu, ipc.v6_mtu, error);
    if (!m)
        return FALSE;
    {
        guint32 n = 0;

        mbim_message_get_raw (m, &n, NULL);
        sink += n;
    }
    mbim_message_unref (m);
    return TRUE;
}

/* ---------------------------------------------------------------------- */

typedef gboolean (*OpFunc) (const guint8 *raw, gsize len, GError **error);

static const struct {
    const char *name;
    OpFunc parse;
} ops[] = {
    { "device_caps",       op_device_caps },
    { "register_state",    op_register_state },
    { "ip_configuration",  op_ip_configuration },
    { "visible_providers", op_visible_providers },
    { "signal_state",      op_signal_state },
};

static double
clock_ns (clockid_t id)
{
    struct timespec ts;

    clock_gettime (id, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Runs op n times; returns the elapsed wall-clock and thread CPU nanoseconds. */
static void
run_batch (OpFunc op, const guint8 *raw, gsize len, guint64 n, double *wall, double *cpu)
{
    double w0 = clock_ns (CLOCK_MONOTONIC), c0 = clock_ns (CLOCK_THREAD_CPUTIME_ID);
    guint64 i;

    for (i = 0; i < n; i++)
        op (raw, len, NULL);
    *cpu = clock_ns (CLOCK_THREAD_CPUTIME_ID) - c0;
    *wall = clock_ns (CLOCK_MONOTONIC) - w0;
}

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Times op in `batches` batches that together last about total_ms and
 * stores the median wall-clock and thread-CPU ns/op. Returns FALSE if the
 * operation fails. */
static gboolean
time_op (const char *name, OpFunc op, const guint8 *raw, gsize len, double total_ms, int batches,
         double *wall_ns, double *cpu_ns)
{
    GError *error = NULL;
    double per_batch_ns = total_ms * 1e6 / batches;
    double wall, cpu, *w, *c;
    guint64 n;
    int i;

    if (!op (raw, len, &error)) {
        fprintf (stderr, "libmbim-bench: %s: %s\n", name, error ? error->message : "failed");
        g_clear_error (&error);
        return FALSE;
    }
    /* Calibrate: grow n until a batch lasts at least a tenth of its share. */
    for (n = 1;; n *= 2) {
        run_batch (op, raw, len, n, &wall, &cpu);
        if (wall >= per_batch_ns / 10 || n >= (1ULL << 40))
            break;
    }
    n = (guint64) ((double) n * per_batch_ns / (wall > 0 ? wall : 1));
    if (n < 1)
        n = 1;

    w = g_new (double, batches);
    c = g_new (double, batches);
    for (i = 0; i < batches; i++) {
        run_batch (op, raw, len, n, &wall, &cpu);
        w[i] = wall / (double) n;
        c[i] = cpu / (double) n;
    }
    *wall_ns = median (w, batches);
    *cpu_ns = median (c, batches);
    g_free (w);
    g_free (c);
    return TRUE;
}

static void
usage (void)
{
    fprintf (stderr, "usage: libmbim-bench [-t total_ms_per_vector] [-r batches] [-v] vectors.hex\n");
    exit (2);
}

int
main (int argc, char **argv)
{
    double total_ms = 500;
    int batches = 5, verbose = 0, status = 0, opt;
    gchar *contents = NULL;
    gchar **lines;
    GError *error = NULL;
    int li;

    while ((opt = getopt (argc, argv, "t:r:v")) != -1) {
        switch (opt) {
        case 't': total_ms = atof (optarg); break;
        case 'r': batches = atoi (optarg); break;
        case 'v': verbose = 1; break;
        default: usage ();
        }
    }
    if (optind != argc - 1 || total_ms <= 0 || batches < 1)
        usage ();
    if (!g_file_get_contents (argv[optind], &contents, NULL, &error)) {
        fprintf (stderr, "libmbim-bench: %s\n", error->message);
        return 1;
    }
    if (verbose)
        fprintf (stderr, "libmbim %d.%d.%d; %g ms per vector in %d batches\n",
                 MBIM_MAJOR_VERSION, MBIM_MINOR_VERSION, MBIM_MICRO_VERSION, total_ms, batches);

    lines = g_strsplit (contents, "\n", -1);
    for (li = 0; lines[li]; li++) {
        gchar *line = g_strstrip (lines[li]);
        gchar *tab, *hex;
        guint8 *raw;
        gsize len, i;
        OpFunc parse = NULL;
        double ns, cpu_ns;

        if (!*line || *line == '#')
            continue;
        tab = strchr (line, '\t');
        if (!tab) {
            fprintf (stderr, "libmbim-bench: line %d: want name<TAB>hex\n", li + 1);
            status = 1;
            continue;
        }
        *tab = '\0';
        hex = g_strstrip (tab + 1);
        len = strlen (hex) / 2;
        if (strlen (hex) % 2) {
            fprintf (stderr, "libmbim-bench: %s: odd number of hex digits\n", line);
            status = 1;
            continue;
        }
        raw = g_malloc (len ? len : 1);
        for (i = 0; i < len; i++) {
            gint hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
            if (hi < 0 || lo < 0)
                break;
            raw[i] = (guint8) (hi << 4 | lo);
        }
        if (i != len) {
            fprintf (stderr, "libmbim-bench: %s: invalid hex\n", line);
            g_free (raw);
            status = 1;
            continue;
        }

        for (i = 0; i < G_N_ELEMENTS (ops); i++)
            if (strcmp (ops[i].name, line) == 0)
                parse = ops[i].parse;
        if (!parse) {
            fprintf (stderr, "libmbim-bench: %s: no libmbim parser wired up for this vector\n", line);
            printf ("%s\t-\t-\t-\n", line);
            g_free (raw);
            continue;
        }
        if (!time_op (line, parse, raw, len, total_ms, batches, &ns, &cpu_ns)) {
            status = 1;
            printf ("%s\t-\t-\t-\n", line);
        } else {
            printf ("%s\t%.1f\t-\t%.1f\n", line, ns, cpu_ns);
        }
        fflush (stdout);

        if (strcmp (line, "ip_configuration") == 0) {
            if (!ip_configuration_load (raw, len, &error)) {
                fprintf (stderr, "libmbim-bench: ip_configuration: %s\n", error->message);
                g_clear_error (&error);
                status = 1;
            } else {
                if (time_op ("ip_configuration (query builder)", op_ip_configuration_build,
                             raw, len, total_ms, batches, &ns, &cpu_ns))
                    printf ("#same-layout-builder\t%s\t%s\t%.1f\t%.1f\n", line,
                            "mbim_message_ip_configuration_query_new", ns, cpu_ns);
                mbim_ipv4_element_array_free (ipc.v4);
                mbim_ipv6_element_array_free (ipc.v6);
                g_free (ipc.v4_dns);
                g_free (ipc.v6_dns);
                memset (&ipc, 0, sizeof ipc);
            }
        }
        g_free (raw);
    }
    g_strfreev (lines);
    g_free (contents);
    if (verbose)
        fprintf (stderr, "sink %llu\n", (unsigned long long) sink);
    return status;
}
