# A collectd Python plugin (collectd-python(5)): the kernel's file handles in use, and their
# maximum with `ReportMax true`, from /proc/sys/fs/file-nr. Runs unchanged under collectd's python
# plugin and pollect's CollectdPython source.
import collectd

REPORT_MAX = False


def configure(conf):
    global REPORT_MAX
    for node in conf.children:
        if node.key.lower() == 'reportmax':
            REPORT_MAX = bool(node.values[0])
        else:
            collectd.warning('filenr: unknown option %s' % node.key)


def read():
    with open('/proc/sys/fs/file-nr') as f:
        allocated, unused, maximum = (int(x) for x in f.read().split())
    collectd.Values(plugin='filenr', type='gauge', type_instance='used').dispatch(values=[allocated - unused])
    if REPORT_MAX:
        collectd.Values(plugin='filenr', type='gauge', type_instance='max').dispatch(values=[maximum])


collectd.register_config(configure)
collectd.register_read(read)
