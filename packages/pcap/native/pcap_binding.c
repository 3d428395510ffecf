/*
 * @portknock/pcap's libpcap binding, written against Node-API (ABI-stable: one build serves every
 * Node major from 20 on).
 *
 * A Capture is one pcap_t opened with pcap_create/pcap_activate, made non-blocking, and watched
 * with a uv_poll_t on the selectable fd. When the fd is readable, pcap_dispatch copies packets
 * into a batch buffer that JavaScript owns (an ArrayBuffer) and JavaScript is called ONCE per
 * batch with (count, bytesUsed). A record in the batch is four host-order uint32 (ts_sec,
 * ts_usec, caplen, wire length) followed by caplen bytes, padded to 4 bytes.
 *
 * Lifetime: close() stops the poll watcher, uv_close()s it, and pcap_close()s in the close
 * callback; it is idempotent. The native struct is freed only when BOTH the poll handle is closed
 * and the JavaScript object is finalized (or never existed), so neither a collected open capture
 * nor a closed one ever leaves libuv pointing at freed memory. An async cleanup hook closes
 * captures still open when the environment is torn down (worker threads).
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#endif

#define RECORD_HEADER_BYTES 16
/* At most this many batches per readable event, then back to the event loop (level-triggered:
 * libuv calls again on the next turn if packets are left). */
#define MAX_BATCHES_PER_POLL 8
/* pcap_stats is sampled at least this often so the 32-bit libpcap counters never wrap unseen. */
#define STATS_SAMPLE_MS 1000

typedef enum { STATE_OPEN, STATE_CLOSING, STATE_CLOSED } capture_state;

typedef struct capture {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t poll;
  int polling;         /* uv_poll_init succeeded: the handle must be uv_close()d */
  capture_state state;
  int finalized;       /* the JavaScript object is gone */
  napi_ref callback;   /* onBatch(count, bytesUsed) */
  napi_ref batch_ref;  /* the batch ArrayBuffer */
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup_hook;
  uint8_t *batch;
  size_t batch_bytes;
  size_t batch_used;
  uint32_t batch_count;
  size_t max_record;   /* header + snaplen, padded */
  uint32_t batch_packets; /* most records per batch */
  uint64_t stat_base[3];     /* received, dropped, ifDropped: 64-bit totals */
  uint32_t stat_last[3];     /* libpcap's last 32-bit values */
  uint64_t stat_sampled_ms;
  int stat_ok;               /* pcap_stats worked at least once */
  int dispatch_error;        /* a pcap_dispatch error waits to be reported */
  char error[PCAP_ERRBUF_SIZE + 64];
} capture;

/* ---------- small Node-API helpers ---------- */

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) return fail_status(env, #call);            \
  } while (0)

static napi_value fail_status(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char message[256];
    snprintf(message, sizeof message, "%s failed: %s", what,
             info != NULL && info->error_message != NULL ? info->error_message
                                                         : "unknown error");
    napi_throw_error(env, "PCAP_NATIVE", message);
  }
  return NULL;
}

/* Throws an Error with `code` and libpcap's `message`. */
static napi_value throw_pcap(napi_env env, const char *code,
                             const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static int get_uint32_prop(napi_env env, napi_value obj, const char *name,
                           uint32_t fallback, uint32_t *out) {
  napi_value v;
  napi_valuetype t;
  *out = fallback;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined) return 1;
  if (t != napi_number) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static int get_bool_prop(napi_env env, napi_value obj, const char *name,
                         int fallback, int *out) {
  napi_value v;
  napi_valuetype t;
  bool b;
  *out = fallback;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined) return 1;
  if (t != napi_boolean) return 0;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

/* Copies a JavaScript string into a new malloc'd buffer (NULL on failure, exception pending). */
static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, "PCAP_NATIVE", "expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, "PCAP_NATIVE", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* ---------- statistics ---------- */

/* Reads pcap_stats and folds it into 64-bit totals (libpcap's counters are 32-bit and wrap). */
static void sample_stats(capture *c) {
  struct pcap_stat ps;
  if (c->pcap == NULL || pcap_stats(c->pcap, &ps) != 0) return;
  uint32_t now[3] = {ps.ps_recv, ps.ps_drop, ps.ps_ifdrop};
  for (int i = 0; i < 3; i++) {
    c->stat_base[i] += (uint32_t)(now[i] - c->stat_last[i]);
    c->stat_last[i] = now[i];
  }
  c->stat_ok = 1;
}

/* ---------- closing and freeing ---------- */

static void free_capture(capture *c) { free(c); }

static void release_js(capture *c) {
  napi_env env = c->env;
  if (c->callback != NULL) {
    napi_delete_reference(env, c->callback);
    c->callback = NULL;
  }
  if (c->batch_ref != NULL) {
    napi_delete_reference(env, c->batch_ref);
    c->batch_ref = NULL;
  }
  c->batch = NULL;
  if (c->async_context != NULL) {
    napi_async_destroy(env, c->async_context);
    c->async_context = NULL;
  }
}

static void finish_close(capture *c) {
  if (c->pcap != NULL) {
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
  c->state = STATE_CLOSED;
  if (c->cleanup_hook != NULL) {
    napi_async_cleanup_hook_handle hook = c->cleanup_hook;
    c->cleanup_hook = NULL;
    napi_remove_async_cleanup_hook(hook);
  }
  if (c->finalized) free_capture(c);
}

static void on_poll_closed(uv_handle_t *handle) {
  finish_close((capture *)handle->data);
}

/* Stops delivery at once; libpcap is closed when libuv has let go of the poll handle. */
static void close_capture(capture *c) {
  if (c->state != STATE_OPEN) return;
  c->state = STATE_CLOSING;
  sample_stats(c); /* the final counters stay readable after close */
  release_js(c);
  if (c->polling) {
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
  } else {
    finish_close(c);
  }
}

static void finalize_capture(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  capture *c = data;
  c->finalized = 1;
  if (c->state == STATE_OPEN) {
    close_capture(c); /* frees in on_poll_closed */
  } else if (c->state == STATE_CLOSED) {
    free_capture(c);
  }
  /* STATE_CLOSING: on_poll_closed frees it. */
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  capture *c = arg;
  (void)handle;
  close_capture(c); /* finish_close removes the hook */
}

/* ---------- delivery ---------- */

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
                      const u_char *bytes) {
  capture *c = (capture *)user;
  uint32_t caplen = h->caplen;
  size_t need = RECORD_HEADER_BYTES + ((caplen + 3u) & ~(size_t)3u);
  if (c->batch == NULL || c->batch_used + need > c->batch_bytes) return;
  uint32_t *rec = (uint32_t *)(c->batch + c->batch_used);
  rec[0] = (uint32_t)h->ts.tv_sec;
  rec[1] = (uint32_t)h->ts.tv_usec;
  rec[2] = caplen;
  rec[3] = h->len;
  memcpy(c->batch + c->batch_used + RECORD_HEADER_BYTES, bytes, caplen);
  c->batch_used += need;
  c->batch_count++;
}

/* Calls onBatch(count, bytesUsed), or onBatch(-1, 0, message) for a read error. */
static void deliver(capture *c, int32_t count, uint32_t used,
                    const char *message) {
  napi_env env = c->env;
  napi_handle_scope scope;
  if (c->callback == NULL) return;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[3], result;
  int argc = message == NULL ? 2 : 3;
  if (napi_get_reference_value(env, c->callback, &cb) == napi_ok &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, count, &argv[0]) == napi_ok &&
      napi_create_uint32(env, used, &argv[1]) == napi_ok &&
      (message == NULL ||
       napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &argv[2]) ==
           napi_ok)) {
    napi_status st =
        napi_make_callback(env, c->async_context, recv, cb, argc, argv, &result);
    if (st == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  capture *c = handle->data;
  (void)events;
  if (c->state != STATE_OPEN) return;
  if (status < 0) {
    /* Usually the interface went away: libpcap's own read says so best. */
    c->batch_used = 0;
    c->batch_count = 0;
    if (pcap_dispatch(c->pcap, 1, on_packet, (u_char *)c) < 0)
      snprintf(c->error, sizeof c->error, "%s", pcap_geterr(c->pcap));
    else
      snprintf(c->error, sizeof c->error, "poll failed: %s",
               uv_strerror(status));
    uv_poll_stop(&c->poll);
    deliver(c, -1, 0, c->error);
    return;
  }
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)handle));
  if (now - c->stat_sampled_ms >= STATS_SAMPLE_MS) {
    c->stat_sampled_ms = now;
    sample_stats(c);
  }
  for (int round = 0; round < MAX_BATCHES_PER_POLL; round++) {
    c->batch_used = 0;
    c->batch_count = 0;
    int drained = 0;
    for (;;) {
      /* Ask only for as many packets as surely fit: a packet libpcap has handed over cannot be
       * given back. */
      size_t room = (c->batch_bytes - c->batch_used) / c->max_record;
      if (room > c->batch_packets - c->batch_count)
        room = c->batch_packets - c->batch_count;
      if (room == 0) break;
      int want = room > 1000000 ? 1000000 : (int)room;
      int n = pcap_dispatch(c->pcap, want, on_packet, (u_char *)c);
      if (n < 0) {
        snprintf(c->error, sizeof c->error, "pcap_dispatch failed: %s",
                 n == PCAP_ERROR_BREAK ? "interrupted" : pcap_geterr(c->pcap));
        c->dispatch_error = 1;
        drained = 1;
        break;
      }
      if (n < want) {
        drained = 1;
        break;
      }
    }
    if (c->batch_count > 0) deliver(c, (int32_t)c->batch_count,
                                    (uint32_t)c->batch_used, NULL);
    if (c->state != STATE_OPEN) return; /* JavaScript closed it */
    if (c->dispatch_error) {
      uv_poll_stop(&c->poll);
      deliver(c, -1, 0, c->error);
      return;
    }
    if (drained) return;
  }
}

/* ---------- JavaScript API ---------- */

static capture *unwrap(napi_env env, napi_callback_info info, size_t *argc,
                       napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok)
    return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "PCAP_NATIVE", "not a Capture");
    return NULL;
  }
  return data;
}

static napi_value set_prop_string(napi_env env, napi_value obj,
                                  const char *name, const char *value) {
  napi_value v;
  CHECK(napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, name, v));
  return obj;
}

static napi_value set_prop_int(napi_env env, napi_value obj, const char *name,
                               int32_t value) {
  napi_value v;
  CHECK(napi_create_int32(env, value, &v));
  CHECK(napi_set_named_property(env, obj, name, v));
  return obj;
}

typedef struct open_options {
  uint32_t snaplen, buffer_bytes, timeout_ms, batch_bytes, batch_packets;
  int promisc, immediate, inbound;
} open_options;

/* Reads the options object; 0 (exception pending) when a value has the wrong type. */
static int read_options(napi_env env, napi_value obj, open_options *o) {
  if (!get_uint32_prop(env, obj, "snaplen", 65535, &o->snaplen) ||
      !get_uint32_prop(env, obj, "bufferBytes", 2u << 20, &o->buffer_bytes) ||
      !get_uint32_prop(env, obj, "timeoutMs", 100, &o->timeout_ms) ||
      !get_uint32_prop(env, obj, "batchBytes", 1u << 20, &o->batch_bytes) ||
      !get_uint32_prop(env, obj, "batchPackets", 4096, &o->batch_packets) ||
      !get_bool_prop(env, obj, "promiscuous", 0, &o->promisc) ||
      !get_bool_prop(env, obj, "immediate", 0, &o->immediate) ||
      !get_bool_prop(env, obj, "inbound", 0, &o->inbound)) {
    throw_pcap(env, "PCAP_NATIVE", "bad option type");
    return 0;
  }
  if (o->snaplen < 16 || o->snaplen > 262144) {
    throw_pcap(env, "PCAP_NATIVE", "snaplen out of range");
    return 0;
  }
  if (o->batch_packets < 1) o->batch_packets = 1;
  return 1;
}

/* Why an open failed: a code for JavaScript and libpcap's text. */
typedef struct open_error {
  const char *code;
  char message[PCAP_ERRBUF_SIZE + 256];
} open_error;

static int fail_open(open_error *e, const char *code, const char *text) {
  e->code = code;
  snprintf(e->message, sizeof e->message, "%s", text);
  return -1;
}

/* pcap_activate's failure: a code and libpcap's most precise text. */
static int fail_activate(open_error *e, pcap_t *p, int status) {
  const char *detail = pcap_geterr(p);
  int precise = status == PCAP_ERROR || status == PCAP_ERROR_NO_SUCH_DEVICE ||
                status == PCAP_ERROR_PERM_DENIED ||
                status == PCAP_ERROR_PROMISC_PERM_DENIED;
  const char *code = status == PCAP_ERROR_NO_SUCH_DEVICE ? "PCAP_NO_SUCH_DEVICE"
                     : status == PCAP_ERROR_PERM_DENIED ||
                             status == PCAP_ERROR_PROMISC_PERM_DENIED
                         ? "PCAP_PERM_DENIED"
                         : "PCAP_ACTIVATE";
  /* For those codes libpcap leaves a more precise text in pcap_geterr. */
  return fail_open(e, code,
                   precise && detail[0] != '\0' ? detail
                                                : pcap_statustostr(status));
}

/* Only packets this host receives. libpcap skips the others in user space; on Linux the kernel
 * is told too (PACKET_IGNORE_OUTGOING, Linux 4.20+), so the copy of every packet sent on `lo`
 * neither takes ring space nor counts in pcap_stats. (A kernel filter `inbound and ...` would do
 * the same, but libpcap re-checks the first packets after pcap_setfilter in user space, where
 * `inbound` cannot be evaluated, and loses them.) */
static void receive_only(pcap_t *p) {
  pcap_setdirection(p, PCAP_D_IN);
#ifdef __linux__
  int one = 1;
  setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
             sizeof one);
#endif
}

/* pcap_create … pcap_setnonblock into c->pcap; returns the selectable fd, or -1 with `e` set.
 * pcap_activate's warning, if any, goes into `warning` (else it is left empty). */
static int open_pcap(capture *c, const char *device, const char *filter,
                     const open_options *o, open_error *e, char *warning,
                     size_t warning_size) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  c->pcap = pcap_create(device, errbuf);
  if (c->pcap == NULL) return fail_open(e, "PCAP_CREATE", errbuf);
  if (pcap_set_snaplen(c->pcap, (int)o->snaplen) != 0 ||
      pcap_set_buffer_size(c->pcap, (int)o->buffer_bytes) != 0 ||
      pcap_set_promisc(c->pcap, o->promisc) != 0 ||
      pcap_set_timeout(c->pcap, (int)o->timeout_ms) != 0 ||
      pcap_set_immediate_mode(c->pcap, o->immediate) != 0)
    return fail_open(e, "PCAP_CREATE", pcap_geterr(c->pcap));
  int status = pcap_activate(c->pcap);
  if (status < 0) return fail_activate(e, c->pcap, status);
  if (status > 0) {
    const char *detail =
        status == PCAP_WARNING_TSTAMP_TYPE_NOTSUP ? "" : pcap_geterr(c->pcap);
    snprintf(warning, warning_size, "%s%s%s", pcap_statustostr(status),
             detail[0] != '\0' ? ": " : "", detail);
  }
  struct bpf_program program;
  if (pcap_compile(c->pcap, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
    return fail_open(e, "PCAP_FILTER", pcap_geterr(c->pcap));
  int set = pcap_setfilter(c->pcap, &program);
  pcap_freecode(&program);
  if (set != 0) return fail_open(e, "PCAP_FILTER", pcap_geterr(c->pcap));
  if (o->inbound) receive_only(c->pcap);
  if (pcap_setnonblock(c->pcap, 1, errbuf) != 0)
    return fail_open(e, "PCAP_ACTIVATE", errbuf);
  int fd = pcap_get_selectable_fd(c->pcap);
  if (fd < 0) return fail_open(e, "PCAP_ACTIVATE", "no selectable descriptor");
  return fd;
}

/* The JavaScript side: the batch buffer, the callback, the async context, the poll watcher on
 * Node's loop, the teardown hook and the wrap. Returns 0, or -1 with `e` set. */
static int attach(napi_env env, napi_value self, napi_value callback,
                  capture *c, int fd, uint32_t batch_bytes, napi_value *batch,
                  open_error *e) {
  napi_value name, resource;
  void *batch_data = NULL;
  uv_loop_t *loop = NULL;
  if (napi_create_arraybuffer(env, batch_bytes, &batch_data, batch) !=
          napi_ok ||
      napi_create_reference(env, *batch, 1, &c->batch_ref) != napi_ok ||
      napi_create_reference(env, callback, 1, &c->callback) != napi_ok ||
      napi_create_string_utf8(env, "portknock.pcap", NAPI_AUTO_LENGTH,
                              &name) != napi_ok ||
      napi_create_object(env, &resource) != napi_ok ||
      napi_async_init(env, resource, name, &c->async_context) != napi_ok)
    return fail_open(e, "PCAP_NATIVE", "cannot set up the capture's buffers");
  c->batch = batch_data;
  c->batch_bytes = batch_bytes;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, &c->poll, fd) != 0)
    return fail_open(e, "PCAP_NATIVE", "cannot watch the capture descriptor");
  c->poll.data = c;
  c->polling = 1;
  c->stat_sampled_ms = uv_now(loop);
  /* napi_wrap last: once it succeeds, the finalizer owns the struct. */
  if (uv_poll_start(&c->poll, UV_READABLE, on_readable) != 0 ||
      napi_add_async_cleanup_hook(env, on_env_teardown, c, &c->cleanup_hook) !=
          napi_ok ||
      napi_wrap(env, self, c, finalize_capture, NULL, NULL) != napi_ok)
    return fail_open(e, "PCAP_NATIVE", "cannot start watching the capture");
  return 0;
}

/* Undoes a failed open (nothing wrapped yet) and throws its error. */
static napi_value abandon(napi_env env, capture *c, const open_error *e) {
  c->finalized = 1; /* there is no JavaScript object to wait for */
  if (c->polling) {
    close_capture(c); /* frees it in the poll's close callback */
  } else {
    release_js(c);
    if (c->pcap != NULL) pcap_close(c->pcap);
    free(c);
  }
  napi_value error, msg, code;
  if (napi_create_string_utf8(env, e->message, NAPI_AUTO_LENGTH, &msg) ==
          napi_ok &&
      napi_create_string_utf8(env, e->code, NAPI_AUTO_LENGTH, &code) ==
          napi_ok &&
      napi_create_error(env, code, msg, &error) == napi_ok)
    napi_throw(env, error);
  return NULL;
}

/* new Capture(device, filter, options, onBatch): opens and starts delivering, or throws an Error
 * whose `code` says which step failed (PCAP_CREATE, PCAP_NO_SUCH_DEVICE, PCAP_PERM_DENIED,
 * PCAP_ACTIVATE, PCAP_FILTER, PCAP_NATIVE) with libpcap's text; nothing stays open then. */
static napi_value capture_new(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self, batch;
  napi_valuetype t;
  open_options o;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 4) return throw_pcap(env, "PCAP_NATIVE", "expected 4 arguments");
  CHECK(napi_typeof(env, argv[2], &t));
  if (t != napi_object)
    return throw_pcap(env, "PCAP_NATIVE", "options must be an object");
  CHECK(napi_typeof(env, argv[3], &t));
  if (t != napi_function)
    return throw_pcap(env, "PCAP_NATIVE", "onBatch must be a function");
  if (!read_options(env, argv[2], &o)) return NULL;
  size_t max_record = RECORD_HEADER_BYTES + ((o.snaplen + 3u) & ~3u);
  if (o.batch_bytes < max_record) o.batch_bytes = (uint32_t)max_record;

  char *device = get_string(env, argv[0]);
  char *filter = device == NULL ? NULL : get_string(env, argv[1]);
  capture *c = filter == NULL ? NULL : calloc(1, sizeof *c);
  if (c == NULL) {
    free(device);
    free(filter);
    if (filter != NULL) throw_pcap(env, "PCAP_NATIVE", "out of memory");
    return NULL;
  }
  c->env = env;
  c->state = STATE_OPEN;
  c->max_record = max_record;
  c->batch_packets = o.batch_packets;
  open_error e = {NULL, ""};
  char warning[PCAP_ERRBUF_SIZE + 64] = "";
  int fd = open_pcap(c, device, filter, &o, &e, warning, sizeof warning);
  free(device);
  free(filter);
  if (fd < 0) return abandon(env, c, &e);
  sample_stats(c);
  if (attach(env, self, argv[3], c, fd, o.batch_bytes, &batch, &e) != 0)
    return abandon(env, c, &e);

  int dlt = pcap_datalink(c->pcap);
  const char *dlt_name = pcap_datalink_val_to_name(dlt);
  if (set_prop_int(env, self, "linkType", dlt) == NULL ||
      set_prop_string(env, self, "linkName", dlt_name ? dlt_name : "") ==
          NULL ||
      set_prop_int(env, self, "snaplen", pcap_snapshot(c->pcap)) == NULL ||
      (warning[0] != '\0' &&
       set_prop_string(env, self, "warning", warning) == NULL) ||
      napi_set_named_property(env, self, "batch", batch) != napi_ok) {
    close_capture(c); /* wrapped: the finalizer frees it */
    return NULL;
  }
  return self;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture *c = unwrap(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  close_capture(c);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

/* { received, dropped, ifDropped } as 64-bit totals (JavaScript numbers); the final values after
 * close. */
static napi_value capture_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture *c = unwrap(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  if (c->state == STATE_OPEN) sample_stats(c);
  napi_value result, v;
  static const char *names[3] = {"received", "dropped", "ifDropped"};
  CHECK(napi_create_object(env, &result));
  for (int i = 0; i < 3; i++) {
    CHECK(napi_create_double(env, (double)c->stat_base[i], &v));
    CHECK(napi_set_named_property(env, result, names[i], v));
  }
  CHECK(napi_get_boolean(env, c->stat_ok, &v));
  CHECK(napi_set_named_property(env, result, "available", v));
  return result;
}

/* send(bytes, frameLength = bytes.length, count = 1): injects `count` frames of `frameLength`
 * bytes taken in turn from `bytes` (a packed array of frames), with pcap_inject; returns how
 * many were sent (fewer when the kernel refused one: ENOBUFS). Throws for a closed capture. */
static napi_value capture_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  capture *c = unwrap(env, info, &argc, argv);
  if (c == NULL) return NULL;
  if (c->state != STATE_OPEN || c->pcap == NULL)
    return throw_pcap(env, "PCAP_CLOSED", "the capture is closed");
  if (argc < 1) return throw_pcap(env, "PCAP_NATIVE", "expected bytes");
  void *data = NULL;
  size_t length = 0;
  bool is_typed = false;
  CHECK(napi_is_typedarray(env, argv[0], &is_typed));
  if (!is_typed) return throw_pcap(env, "PCAP_NATIVE", "expected a Uint8Array");
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab,
                                 &offset));
  if (type != napi_uint8_array)
    return throw_pcap(env, "PCAP_NATIVE", "expected a Uint8Array");
  uint32_t frame = (uint32_t)length, count = 1;
  for (size_t i = 1; i < argc && i < 3; i++) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[i], &t));
    if (t == napi_undefined) continue;
    if (t != napi_number)
      return throw_pcap(env, "PCAP_NATIVE", "expected a number");
    CHECK(napi_get_value_uint32(env, argv[i], i == 1 ? &frame : &count));
  }
  if (frame == 0 || frame > length)
    return throw_pcap(env, "PCAP_NATIVE", "bad frame length");
  size_t frames = length / frame;
  uint32_t sent = 0;
  for (; sent < count; sent++) {
    const uint8_t *p = (const uint8_t *)data + (size_t)(sent % frames) * frame;
    if (pcap_inject(c->pcap, p, frame) < 0) {
      if (sent == 0) {
        char message[PCAP_ERRBUF_SIZE + 32];
        snprintf(message, sizeof message, "pcap_inject failed: %s",
                 pcap_geterr(c->pcap));
        return throw_pcap(env, "PCAP_SEND", message);
      }
      break;
    }
  }
  napi_value result;
  CHECK(napi_create_uint32(env, sent, &result));
  return result;
}

static napi_value lib_version(napi_env env) {
  napi_value v;
  CHECK(napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH,
                                &v));
  return v;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor methods[] = {
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, capture_stats, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, capture_send, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, version;
  CHECK(napi_define_class(env, "Capture", NAPI_AUTO_LENGTH, capture_new, NULL,
                          sizeof methods / sizeof methods[0], methods, &cls));
  CHECK(napi_set_named_property(env, exports, "Capture", cls));
  version = lib_version(env);
  if (version == NULL) return NULL;
  CHECK(napi_set_named_property(env, exports, "libpcapVersion", version));
  napi_value record;
  CHECK(napi_create_uint32(env, RECORD_HEADER_BYTES, &record));
  CHECK(napi_set_named_property(env, exports, "recordHeaderBytes", record));
  return exports;
}
