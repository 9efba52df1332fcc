"""collectd's Python plugin API (collectd-python(5)), hosted by pollect's CollectdPython source.

pollect runs this file as a long-lived python3 child: `python3 collectd.py`. It imports the
configured plugin modules, hands them their <Module> config, runs init, then calls the read
callbacks on their intervals until SIGTERM, when the shutdown callbacks run.

Protocol: one JSON object per line on the file descriptor that was stdout at start; stdout itself
then points at stderr, so a plugin that prints (or a C library that writes to fd 1) cannot break it.
  {"t": "call", "kind": "read", "name": "python.spam"}   a callback starts (pollect times it)
  {"t": "done"}                                          it returned or raised
  {"t": "values", "host": ..., "plugin": ..., "values": [...], "dstypes": [...], ...}
  {"t": "log", "severity": 3..7, "message": ...}
  {"t": "notification", "severity": 1|2|4, "message": ..., "host": ..., ...}
  {"t": "ready"}                                         imports, config and init are done
  {"t": "primed"}                                        every read callback ran once
  {"t": "failed", "kind": "read", "name": ..., "message": ...}   a read callback raised
  {"t": "fatal", "message": ...}                         the host gives up (exit code 2)
The configuration comes as JSON in the environment variable POLLECT_COLLECTD_CONFIG.
"""

import json
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback

if __name__ == "__main__":
    # Plugins `import collectd`: make them get this very module, not a second copy of the file.
    sys.modules["collectd"] = sys.modules["__main__"]

LOG_ERROR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = 3, 4, 5, 6, 7
NOTIF_FAILURE, NOTIF_WARNING, NOTIF_OKAY = 1, 2, 4
DS_TYPE_COUNTER, DS_TYPE_GAUGE, DS_TYPE_DERIVE, DS_TYPE_ABSOLUTE = 0, 1, 2, 3
_DS_TYPES = {"COUNTER": DS_TYPE_COUNTER, "GAUGE": DS_TYPE_GAUGE, "DERIVE": DS_TYPE_DERIVE, "ABSOLUTE": DS_TYPE_ABSOLUTE}
_DS_NAMES = {v: k.lower() for k, v in _DS_TYPES.items()}

_proto = None
_settings = {"hostname": socket.gethostname(), "interval": 10.0, "logTraces": False, "maxReadInterval": 86400.0}
_datasets = {}
_callbacks = {kind: {} for kind in ("config", "init", "read", "write", "flush", "log", "notification", "shutdown")}


_send_lock = threading.Lock()


def _send(msg):
    if _proto is None:
        return
    line = json.dumps(msg, allow_nan=False, separators=(",", ":")) + "\n"
    # Plugins dispatch from their own threads too: one whole line at a time.
    with _send_lock:
        _proto.write(line)
        _proto.flush()


# --- Config -----------------------------------------------------------------------------------


class Config(object):
    """A piece of collectd's config: key, values (a tuple of str, float, bool), children, parent."""

    def __init__(self, key, values=(), children=(), parent=None):
        self.key = key
        self.values = tuple(values)
        self.children = tuple(children)
        self.parent = parent

    def __repr__(self):
        return "<collectd.Config %s %r (%d children)>" % (self.key, self.values, len(self.children))


def _config_value(v):
    # collectd types a config word as a string, a number (a float) or a boolean.
    if isinstance(v, bool) or isinstance(v, str):
        return v
    return float(v)


def _config_node(key, tree, parent):
    """The Config of one line or block, from the JSON shape pollect documents (README)."""
    if isinstance(tree, dict):
        node = Config(key, [_config_value(v) for v in tree.get("$values", [])], (), parent)
        children = []
        for k, v in tree.items():
            if k != "$values":
                children.extend(_config_nodes(k, v, node))
        node.children = tuple(children)
        return node
    if isinstance(tree, list):
        return Config(key, [_config_value(v) for v in tree], (), parent)
    return Config(key, [_config_value(tree)], (), parent)


def _config_nodes(key, tree, parent):
    # A list holding blocks or lists repeats the key: one line or block per item.
    if isinstance(tree, list) and any(isinstance(v, (dict, list)) for v in tree):
        return [_config_node(key, v, parent) for v in tree]
    return [_config_node(key, tree, parent)]


# --- Values and notifications -----------------------------------------------------------------


class PluginData(object):
    def __init__(self, type="", plugin_instance="", type_instance="", plugin="", host="", time=0.0):
        self.type = type
        self.plugin_instance = plugin_instance
        self.type_instance = type_instance
        self.plugin = plugin
        self.host = host
        self.time = time


class Values(PluginData):
    """A value list: dispatch() hands it to pollect (and to this child's write callbacks)."""

    def __init__(self, type="", values=(), plugin_instance="", type_instance="", plugin="", host="", time=0.0, interval=0.0, meta=None):
        PluginData.__init__(self, type, plugin_instance, type_instance, plugin, host, time)
        self.values = list(values)
        self.interval = interval
        self.meta = dict(meta) if meta else {}

    def __repr__(self):
        return "collectd.Values(type=%r,type_instance=%r,plugin=%r,plugin_instance=%r,host=%r,time=%r,interval=%r,values=%r)" % (
            self.type, self.type_instance, self.plugin, self.plugin_instance, self.host, self.time, self.interval, self.values)

    def _merged(self, overrides):
        v = Values(self.type, self.values, self.plugin_instance, self.type_instance, self.plugin, self.host, self.time, self.interval, self.meta)
        for k, x in overrides.items():
            if not hasattr(v, k):
                raise TypeError("'%s' is an invalid keyword argument for this function" % k)
            setattr(v, k, x)
        return v

    def dispatch(self, **kwargs):
        """dispatch([type][, values][, plugin_instance][, type_instance][, plugin][, host][, time][, interval][, meta])"""
        v = self._merged(kwargs)
        if not v.type:
            raise RuntimeError("type not set")
        ds = _datasets.get(v.type)
        if ds is None:
            raise TypeError("Dataset %s not found" % v.type)
        values = list(v.values)
        if len(values) != len(ds):
            raise RuntimeError("type %s needs %d values, got %d" % (v.type, len(ds), len(values)))
        out = []
        for (name, kind, _min, _max), x in zip(ds, values):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError("value %r for data source %s of type %s is not a number" % (x, name, v.type))
            x = float(x) if kind == DS_TYPE_GAUGE else int(x)
            out.append(None if isinstance(x, float) and math.isnan(x) else x)
        v.plugin = v.plugin or "python"
        v.host = v.host or _settings["hostname"]
        v.time = v.time if v.time and v.time > 0 else time.time()
        v.interval = v.interval if v.interval and v.interval > 0 else _settings["interval"]
        _send({
            "t": "values", "host": v.host, "plugin": v.plugin, "plugin_instance": v.plugin_instance or "",
            "type": v.type, "type_instance": v.type_instance or "", "time": v.time, "interval": v.interval,
            "values": [None if isinstance(x, float) and math.isinf(x) else x for x in out],
            "dsnames": [d[0] for d in ds], "dstypes": [_DS_NAMES[d[1]] for d in ds],
        })
        v.values = out
        for cb in list(_callbacks["write"].values()):
            _call_quietly(cb, (v,))

    def write(self, destination=None, **kwargs):
        """As dispatch(): pollect has no other collectd write plugins to address."""
        self.dispatch(**kwargs)


class Notification(PluginData):
    def __init__(self, type="", message="", plugin_instance="", type_instance="", plugin="", host="", time=0.0, severity=0, meta=None):
        PluginData.__init__(self, type, plugin_instance, type_instance, plugin, host, time)
        self.message = message
        self.severity = severity
        self.meta = dict(meta) if meta else {}

    def dispatch(self, **kwargs):
        n = Notification(self.type, self.message, self.plugin_instance, self.type_instance, self.plugin, self.host, self.time, self.severity, self.meta)
        for k, x in kwargs.items():
            if not hasattr(n, k):
                raise TypeError("'%s' is an invalid keyword argument for this function" % k)
            setattr(n, k, x)
        n.plugin = n.plugin or "python"
        n.host = n.host or _settings["hostname"]
        n.time = n.time if n.time and n.time > 0 else time.time()
        n.severity = n.severity or NOTIF_FAILURE
        meta = {str(k): v for k, v in (n.meta or {}).items() if isinstance(v, (str, bool, int, float)) and not (isinstance(v, float) and not math.isfinite(v))}
        _send({"t": "notification", "severity": n.severity, "message": str(n.message), "host": n.host, "plugin": n.plugin,
               "plugin_instance": n.plugin_instance or "", "type": n.type or "", "type_instance": n.type_instance or "", "time": n.time,
               "meta": meta})
        for cb in list(_callbacks["notification"].values()):
            _call_quietly(cb, (n,))


def get_dataset(type):
    """[(name, type, min, max), ...] of a types.db type; type is one of the DS_TYPE_* constants."""
    ds = _datasets.get(type)
    if ds is None:
        raise TypeError("Dataset %s not found" % type)
    return [tuple(d) for d in ds]


# --- Registration -----------------------------------------------------------------------------


class _Callback(object):
    def __init__(self, fn, data, has_data, name):
        self.fn, self.data, self.has_data, self.name = fn, data, has_data, name

    def __call__(self, *args):
        return self.fn(*(args + (self.data,))) if self.has_data else self.fn(*args)


class _Read(_Callback):
    def __init__(self, fn, data, has_data, name, interval):
        _Callback.__init__(self, fn, data, has_data, name)
        self.interval = interval
        self.effective = interval
        self.next = time.time()


_NO_DATA = object()


def _name(fn, name):
    if name is not None:
        return "python." + str(name)
    module = getattr(fn, "__module__", None)
    return "python." + module if module else "python.%x" % id(fn)


def _register(kind, fn, data=_NO_DATA, name=None):
    if not callable(fn):
        raise TypeError("callback needs a be a callable object.")
    ident = _name(fn, name)
    _callbacks[kind][ident] = _Callback(fn, data, data is not _NO_DATA, ident)
    return ident


def _unregister(kind, ident):
    if callable(ident):
        ident = _name(ident, None)
    if _callbacks[kind].pop(ident, None) is None:
        raise RuntimeError("Unable to unregister %s callback '%s'" % (kind, ident))


def register_config(callback, data=_NO_DATA, name=None):
    return _register("config", callback, data, name)


def register_init(callback, data=_NO_DATA, name=None):
    return _register("init", callback, data, name)


def register_read(callback, interval=0, data=_NO_DATA, name=None):
    if not callable(callback):
        raise TypeError("callback needs a be a callable object.")
    ident = _name(callback, name)
    every = float(interval) if interval and interval > 0 else _settings["interval"]
    _callbacks["read"][ident] = _Read(callback, data, data is not _NO_DATA, ident, every)
    return ident


def register_write(callback, data=_NO_DATA, name=None):
    return _register("write", callback, data, name)


def register_flush(callback, data=_NO_DATA, name=None):
    return _register("flush", callback, data, name)


def register_log(callback, data=_NO_DATA, name=None):
    return _register("log", callback, data, name)


def register_notification(callback, data=_NO_DATA, name=None):
    return _register("notification", callback, data, name)


def register_shutdown(callback, data=_NO_DATA, name=None):
    return _register("shutdown", callback, data, name)


def unregister_config(identifier):
    _unregister("config", identifier)


def unregister_init(identifier):
    _unregister("init", identifier)


def unregister_read(identifier):
    _unregister("read", identifier)


def unregister_write(identifier):
    _unregister("write", identifier)


def unregister_flush(identifier):
    _unregister("flush", identifier)


def unregister_log(identifier):
    _unregister("log", identifier)


def unregister_notification(identifier):
    _unregister("notification", identifier)


def unregister_shutdown(identifier):
    _unregister("shutdown", identifier)


def flush(plugin=None, timeout=-1, identifier=None):
    for ident, cb in list(_callbacks["flush"].items()):
        if plugin is None or ident == "python." + plugin:
            _call_quietly(cb, (timeout, identifier))


# --- Logging ----------------------------------------------------------------------------------


def _log(severity, message):
    message = str(message)
    _send({"t": "log", "severity": severity, "message": message})
    for cb in list(_callbacks["log"].values()):
        try:
            cb(severity, message)
        except Exception:
            # As collectd: a failing log callback is printed to stderr, not logged.
            traceback.print_exc()


def error(message):
    _log(LOG_ERROR, message)


def warning(message):
    _log(LOG_WARNING, message)


def notice(message):
    _log(LOG_NOTICE, message)


def info(message):
    _log(LOG_INFO, message)


def debug(message):
    _log(LOG_DEBUG, message)


# --- The host ---------------------------------------------------------------------------------


def _exception_text(what):
    etype, value, _tb = sys.exc_info()
    text = "Unhandled python exception in %s: %s: %s" % (what, etype.__name__, value)
    if _settings["logTraces"]:
        text += "\n" + "".join(traceback.format_exc()).rstrip()
    return text


def _call(kind, cb, args):
    """Calls a callback between call/done messages; None when it returned, else the exception's text."""
    _send({"t": "call", "kind": kind, "name": cb.name})
    try:
        cb(*args)
        return None
    except Exception:
        return _exception_text("%s callback %s" % (kind, cb.name))
    finally:
        _send({"t": "done"})


def _call_quietly(cb, args):
    try:
        cb(*args)
    except Exception:
        error(_exception_text("callback %s" % cb.name))


class _Stop(BaseException):
    pass


def _on_term(_signum, _frame):
    raise _Stop()


def _configure(conf):
    for folder in reversed(conf.get("modulePath", [])):
        sys.path.insert(0, folder)  # as collectd's ModulePath: before the standard folders
    for name in conf.get("import", []):
        _send({"t": "call", "kind": "import", "name": name})
        try:
            __import__(name)
        except Exception:
            raise _Fatal(_exception_text("importing module %s" % name))
        finally:
            _send({"t": "done"})
    for module, trees in conf.get("modules", {}).items():
        cb = _callbacks["config"].get("python." + module)
        if cb is None:
            for ident, c in _callbacks["config"].items():
                if ident.lower() == "python." + module.lower():
                    cb = c
        if cb is None:
            warning("Found a configuration for the \"%s\" plugin, but the plugin isn't loaded or didn't register a configuration callback." % module)
            continue
        # Several <Module name> blocks (a list): collectd calls the config callback once per block, in order.
        for tree in trees if isinstance(trees, list) else [trees]:
            root = Config("Module", (module,))
            root.children = tuple(n for k, v in tree.items() for n in _config_nodes(k, v, root))
            failure = _call("config", cb, (root,))
            if failure is not None:
                raise _Fatal(failure)


class _Fatal(Exception):
    pass


def _read_loop():
    first = True
    while True:
        reads = list(_callbacks["read"].values())
        now = time.time()
        due = [r for r in reads if r.next <= now]
        for r in due:
            if r.name not in _callbacks["read"]:
                continue  # unregistered by an earlier callback
            failure = _call("read", r, ())
            if failure is None:
                r.effective = r.interval
            else:
                # As collectd: a failing read callback is suspended for twice as long each time.
                r.effective = min(r.effective * 2, _settings["maxReadInterval"])
                _send({"t": "failed", "kind": "read", "name": r.name, "message": "%s; read-function of plugin `%s' failed. Will suspend it for %.3f seconds." % (failure, r.name, r.effective)})
            r.next = max(r.next + r.effective, time.time()) if r.effective == r.interval else time.time() + r.effective
        if first:
            _send({"t": "primed"})  # every read callback ran once: a first probe has values
            first = False
        pending = [r.next for r in _callbacks["read"].values()]
        time.sleep(max(0.0, min(pending) - time.time()) if pending else 3600)


def _main():
    global _proto
    # The protocol keeps the original stdout; fd 1 and sys.stdout then go to stderr.
    _proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    conf = json.loads(os.environ.get("POLLECT_COLLECTD_CONFIG", "{}"))
    _settings["interval"] = float(conf.get("interval", 10))
    _settings["logTraces"] = bool(conf.get("logTraces", False))
    if conf.get("hostname"):
        _settings["hostname"] = conf["hostname"]
    for t, sources in conf.get("datasets", {}).items():
        _datasets[t] = [(name, _DS_TYPES[kind.upper()], _bound(lo), _bound(hi)) for name, kind, lo, hi in sources]
    try:
        _configure(conf)
        for cb in list(_callbacks["init"].values()):
            failure = _call("init", cb, ())
            if failure is not None:
                raise _Fatal(failure)
        _send({"t": "ready"})
        _read_loop()
    except _Fatal as e:
        _send({"t": "fatal", "message": str(e)})
        sys.exit(2)
    except _Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for cb in list(_callbacks["shutdown"].values()):
        failure = _call("shutdown", cb, ())
        if failure is not None:
            error(failure)


def _bound(x):
    return float("nan") if x is None else float(x)


if __name__ == "__main__":
    _main()
