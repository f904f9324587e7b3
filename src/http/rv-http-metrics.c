/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"

/*
 * GET /metrics in the Prometheus text format (0.0.4): the registry read
 * from the status cache, the HTTP layer's own counters, the event bus and
 * the store as the core reports them, and what the daemon adds (main-loop
 * stalls); every value is read at scrape time, nothing is kept for it
 */

typedef struct {
        double seconds;
        guint64 count;
} RvHttpDuration;

static void
rv_http_metrics_label(GString *out, const char *value)
{
        g_string_append_c(out, '"');
        for (const char *p = value; *p != '\0'; p++) {
                if (*p == '\\' || *p == '"')
                        g_string_append_c(out, '\\');
                if (*p == '\n') {
                        g_string_append(out, "\\n");
                        continue;
                }
                g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
}

void
rv_http_metrics_count(RvHttp *http, const RvHttpRequest *req)
{
        const char *route = req->route != NULL ? req->route->pattern : "unmatched";
        const char *method = req->method != NULL ? req->method : "";
        g_autofree char *key = g_strdup_printf("%s %s %u", method, route, req->status);
        g_autofree char *route_key = g_strdup_printf("%s %s", method, route);
        guint64 *count;
        RvHttpDuration *d;

        /* bounded: routes are a fixed set, an unmatched path counts as one */
        count = g_hash_table_lookup(http->request_counts, key);
        if (count == NULL) {
                count = g_new0(guint64, 1);
                g_hash_table_insert(http->request_counts, g_steal_pointer(&key), count);
        }
        (*count)++;
        d = g_hash_table_lookup(http->request_seconds, route_key);
        if (d == NULL) {
                d = g_new0(RvHttpDuration, 1);
                g_hash_table_insert(http->request_seconds, g_steal_pointer(&route_key), d);
        }
        d->seconds += (double)(g_get_monotonic_time() - req->started_us) / G_USEC_PER_SEC;
        d->count++;
}

static gint
rv_http_compare_strings(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

static GPtrArray *
rv_http_sorted_keys(GHashTable *table)
{
        GPtrArray *keys = g_ptr_array_new();
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                g_ptr_array_add(keys, key);
        g_ptr_array_sort(keys, rv_http_compare_strings);
        return keys;
}

static void
rv_http_metrics_requests(RvHttp *http, GString *out)
{
        g_autoptr(GPtrArray) keys = rv_http_sorted_keys(http->request_counts);
        g_autoptr(GPtrArray) routes = rv_http_sorted_keys(http->request_seconds);

        g_string_append(out, "# HELP revaer_http_requests_total HTTP requests answered, by route and status.\n"
                             "# TYPE revaer_http_requests_total counter\n");
        for (guint i = 0; i < keys->len; i++) {
                const char *key = g_ptr_array_index(keys, i);
                g_auto(GStrv) parts = g_strsplit(key, " ", 3);
                g_string_append(out, "revaer_http_requests_total{method=");
                rv_http_metrics_label(out, parts[0]);
                g_string_append(out, ",route=");
                rv_http_metrics_label(out, parts[1]);
                g_string_append_printf(out, ",code=\"%s\"} %" G_GUINT64_FORMAT "\n", parts[2],
                                       *(guint64 *)g_hash_table_lookup(http->request_counts, key));
        }
        g_string_append(out, "# HELP revaer_http_request_duration_seconds Time from the request's headers to the "
                             "end of its answer.\n# TYPE revaer_http_request_duration_seconds summary\n");
        for (guint i = 0; i < routes->len; i++) {
                const char *key = g_ptr_array_index(routes, i);
                const RvHttpDuration *d = g_hash_table_lookup(http->request_seconds, key);
                g_auto(GStrv) parts = g_strsplit(key, " ", 2);
                for (guint j = 0; j < 2; j++) {
                        g_string_append_printf(
                                out, "revaer_http_request_duration_seconds_%s{method=", j == 0 ? "sum" : "count");
                        rv_http_metrics_label(out, parts[0]);
                        g_string_append(out, ",route=");
                        rv_http_metrics_label(out, parts[1]);
                        if (j == 0)
                                g_string_append_printf(out, "} %.6f\n", d->seconds);
                        else
                                g_string_append_printf(out, "} %" G_GUINT64_FORMAT "\n", d->count);
                }
        }
        g_string_append_printf(out,
                               "# HELP revaer_http_auth_failures_total Requests with a wrong key or setup token.\n"
                               "# TYPE revaer_http_auth_failures_total counter\n"
                               "revaer_http_auth_failures_total %" G_GUINT64_FORMAT "\n"
                               "# HELP revaer_http_rate_limited_total Requests refused with 429.\n"
                               "# TYPE revaer_http_rate_limited_total counter\n"
                               "revaer_http_rate_limited_total %" G_GUINT64_FORMAT "\n"
                               "# HELP revaer_http_aborted_total Connections cut off (too slow, too large, "
                               "falling behind).\n"
                               "# TYPE revaer_http_aborted_total counter\n"
                               "revaer_http_aborted_total %" G_GUINT64_FORMAT "\n",
                               http->auth_failed, http->rate_limited, http->aborted);
}

static void
rv_http_metrics_torrents(RvHttp *http, GString *out)
{
        guint counts[RV_TORRENT_STATE_LAST];
        GPtrArray *all = rv_manager_list(http->manager);
        gint64 down = 0;
        gint64 up = 0;
        gint64 downloaded = 0;
        gint64 uploaded = 0;
        gint64 peers = 0;
        gint64 seeds = 0;

        rv_manager_count_by_state(http->manager, counts);
        rv_manager_get_rates(http->manager, &down, &up);
        for (guint i = 0; i < all->len; i++) {
                const RvTorrent *t = g_ptr_array_index(all, i);
                downloaded += t->downloaded;
                uploaded += t->uploaded;
                peers += t->num_peers;
                seeds += t->num_seeds;
        }
        g_string_append(out, "# HELP revaer_torrents Torrents by state.\n# TYPE revaer_torrents gauge\n");
        for (guint i = 0; i < RV_TORRENT_STATE_LAST; i++)
                g_string_append_printf(out, "revaer_torrents{state=\"%s\"} %u\n",
                                       rv_torrent_state_to_string((RvTorrentState)i), counts[i]);
        g_string_append_printf(out,
                               "# HELP revaer_download_rate_bytes Bytes per second received, all torrents.\n"
                               "# TYPE revaer_download_rate_bytes gauge\nrevaer_download_rate_bytes %" G_GINT64_FORMAT
                               "\n# HELP revaer_upload_rate_bytes Bytes per second sent, all torrents.\n"
                               "# TYPE revaer_upload_rate_bytes gauge\nrevaer_upload_rate_bytes %" G_GINT64_FORMAT
                               "\n# HELP revaer_downloaded_bytes Bytes received by the torrents present.\n"
                               "# TYPE revaer_downloaded_bytes gauge\nrevaer_downloaded_bytes %" G_GINT64_FORMAT
                               "\n# HELP revaer_uploaded_bytes Bytes sent by the torrents present.\n"
                               "# TYPE revaer_uploaded_bytes gauge\nrevaer_uploaded_bytes %" G_GINT64_FORMAT
                               "\n# HELP revaer_peers Connected peers, all torrents.\n"
                               "# TYPE revaer_peers gauge\nrevaer_peers %" G_GINT64_FORMAT
                               "\n# HELP revaer_seeds Connected seeds, all torrents.\n"
                               "# TYPE revaer_seeds gauge\nrevaer_seeds %" G_GINT64_FORMAT "\n",
                               down, up, downloaded, uploaded, peers, seeds);
}

static void
rv_http_metrics_events(RvHttp *http, GString *out)
{
        RvEventBus *bus = rv_manager_get_events(http->manager);

        g_string_append_printf(
                out,
                "# HELP revaer_sse_clients Clients following the event stream.\n# TYPE revaer_sse_clients gauge\n"
                "revaer_sse_clients %u\n"
                "# HELP revaer_sse_dropped_total Event stream clients cut off for falling behind.\n"
                "# TYPE revaer_sse_dropped_total counter\nrevaer_sse_dropped_total %" G_GUINT64_FORMAT "\n"
                "# HELP revaer_sse_events_total Events sent to event stream clients.\n"
                "# TYPE revaer_sse_events_total counter\nrevaer_sse_events_total %" G_GUINT64_FORMAT "\n"
                "# HELP revaer_sse_queued_bytes Bytes waiting to be written to event stream clients.\n"
                "# TYPE revaer_sse_queued_bytes gauge\nrevaer_sse_queued_bytes %" G_GSIZE_FORMAT "\n"
                "# HELP revaer_event_bus_last_id The id of the last event.\n"
                "# TYPE revaer_event_bus_last_id counter\nrevaer_event_bus_last_id %" G_GUINT64_FORMAT "\n"
                "# HELP revaer_event_bus_ring Events the replay ring holds.\n"
                "# TYPE revaer_event_bus_ring gauge\nrevaer_event_bus_ring %u\n"
                "# HELP revaer_event_bus_depth Coalesced torrent changes waiting for their turn.\n"
                "# TYPE revaer_event_bus_depth gauge\nrevaer_event_bus_depth %u\n"
                "# HELP revaer_event_bus_subscribers Subscribers of the event bus.\n"
                "# TYPE revaer_event_bus_subscribers gauge\nrevaer_event_bus_subscribers %u\n",
                rv_http_events_get_clients(http->events), rv_http_events_get_dropped(http->events),
                rv_http_events_get_sent(http->events), rv_http_events_get_queued(http->events),
                rv_event_bus_get_last_id(bus), rv_event_bus_get_ring_length(bus), rv_event_bus_get_waiting(bus),
                rv_event_bus_get_subscribers(bus));
}

static void
rv_http_metrics_store(RvHttp *http, GString *out)
{
        RvStoreWriteStats w;

        rv_store_get_write_stats(http->store, &w);
        g_string_append(out, "# HELP revaer_store_write_seconds Torrent record writes, from the request until "
                             "durable.\n# TYPE revaer_store_write_seconds histogram\n");
        for (guint i = 0; i < RV_STORE_WRITE_BUCKETS; i++)
                g_string_append_printf(out, "revaer_store_write_seconds_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                                       rv_store_write_bucket_ms[i] / 1000.0, w.buckets[i]);
        g_string_append_printf(
                out,
                "revaer_store_write_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
                "revaer_store_write_seconds_sum %.6f\nrevaer_store_write_seconds_count %" G_GUINT64_FORMAT
                "\n# HELP revaer_store_writes_failed_total Torrent record writes that failed.\n"
                "# TYPE revaer_store_writes_failed_total counter\nrevaer_store_writes_failed_total %" G_GUINT64_FORMAT
                "\n# HELP revaer_store_pending Writes queued in the store.\n"
                "# TYPE revaer_store_pending gauge\nrevaer_store_pending %u\n",
                w.count, (double)w.sum_us / G_USEC_PER_SEC, w.count, w.failed, rv_store_get_pending(http->store));
}

static void
rv_http_metrics_health(RvHttp *http, GString *out)
{
        static const char *const known[] = { RV_HEALTH_ENGINE, RV_HEALTH_RESUME_STORE, RV_HEALTH_STORE,
                                             RV_HEALTH_CONFIG, NULL };
        RvHealth *health = rv_manager_get_health(http->manager);
        g_auto(GStrv) degraded = rv_health_get_degraded(health);
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        for (guint i = 0; known[i] != NULL; i++)
                g_ptr_array_add(names, (gpointer)known[i]);
        for (guint i = 0; degraded[i] != NULL; i++) {
                if (!g_strv_contains(known, degraded[i]))
                        g_ptr_array_add(names, degraded[i]);
        }
        g_string_append(out, "# HELP revaer_component_healthy 1 when a component is healthy, 0 when degraded.\n"
                             "# TYPE revaer_component_healthy gauge\n");
        for (guint i = 0; i < names->len; i++) {
                g_string_append(out, "revaer_component_healthy{component=");
                rv_http_metrics_label(out, g_ptr_array_index(names, i));
                g_string_append_printf(out, "} %d\n",
                                       rv_health_get_reason(health, g_ptr_array_index(names, i)) == NULL);
        }
        g_string_append_printf(out,
                               "# HELP revaer_settings_revision The current settings revision.\n"
                               "# TYPE revaer_settings_revision gauge\nrevaer_settings_revision %" G_GUINT64_FORMAT
                               "\n# HELP revaer_info The running version.\n# TYPE revaer_info gauge\n"
                               "revaer_info{version=\"%s\"} 1\n",
                               http->settings != NULL ? rv_live_settings_get_revision(http->settings) : 0,
                               PACKAGE_VERSION);
}

void
rv_http_metrics(RvHttpRequest *req)
{
        RvHttp *http = req->http;
        GString *out = g_string_sized_new(8192);

        rv_http_metrics_torrents(http, out);
        rv_http_metrics_requests(http, out);
        rv_http_metrics_events(http, out);
        rv_http_metrics_store(http, out);
        rv_http_metrics_health(http, out);
        if (http->metrics_func != NULL)
                http->metrics_func(out, http->metrics_data);
        rv_http_respond_string(req, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", out);
}
