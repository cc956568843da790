#!/usr/bin/env python3
"""check_families.py GEN: gen_dispatch.py's rule for the driver family of a remote
procedure, on libvirt's names, also those of families splitvirt's .x does not carry yet
(storage, network, interface, nwfilter): the connection libvirt 9.0 serves each on. TAP."""

import importlib.util
import sys

CASES = [
    ("CONNECT_LIST_ALL_STORAGE_POOLS", "STORAGE"), ("CONNECT_FIND_STORAGE_POOL_SOURCES", "STORAGE"),
    ("CONNECT_NUM_OF_DEFINED_STORAGE_POOLS", "STORAGE"), ("STORAGE_POOL_DEFINE_XML", "STORAGE"),
    ("STORAGE_VOL_UPLOAD", "STORAGE"), ("STORAGE_POOL_LOOKUP_BY_VOLUME", "STORAGE"),
    ("CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY", "STORAGE"),
    ("CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", "STORAGE"),
    ("STORAGE_POOL_EVENT_REFRESH", "STORAGE"),
    ("SECRET_GET_VALUE", "SECRET"), ("CONNECT_LIST_SECRETS", "SECRET"),
    ("CONNECT_SECRET_EVENT_DEREGISTER_ANY", "SECRET"),
    ("NODE_LIST_DEVICES", "NODEDEV"), ("NODE_NUM_OF_DEVICES", "NODEDEV"),
    ("NODE_DEVICE_CREATE_XML", "NODEDEV"), ("CONNECT_LIST_ALL_NODE_DEVICES", "NODEDEV"),
    ("CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY", "NODEDEV"), ("NODE_DEVICE_EVENT_UPDATE", "NODEDEV"),
    ("CONNECT_LIST_ALL_NETWORKS", "NETWORK"), ("CONNECT_NUM_OF_DEFINED_NETWORKS", "NETWORK"),
    ("NETWORK_PORT_CREATE_XML", "NETWORK"), ("CONNECT_NETWORK_EVENT_REGISTER_ANY", "NETWORK"),
    ("NETWORK_GET_DHCP_LEASES", "NETWORK"),
    ("CONNECT_LIST_DEFINED_INTERFACES", "INTERFACE"), ("INTERFACE_CHANGE_BEGIN", "INTERFACE"),
    ("INTERFACE_LOOKUP_BY_MAC_STRING", "INTERFACE"),
    ("CONNECT_LIST_ALL_NWFILTERS", "NWFILTER"), ("NWFILTER_BINDING_CREATE_XML", "NWFILTER"),
    ("CONNECT_LIST_ALL_NWFILTER_BINDINGS", "NWFILTER"), ("CONNECT_NUM_OF_NWFILTERS", "NWFILTER"),
    ("DOMAIN_INTERFACE_ADDRESSES", "PRIMARY"), ("DOMAIN_GET_INTERFACE_PARAMETERS", "PRIMARY"),
    ("NODE_GET_INFO", "PRIMARY"), ("NODE_GET_FREE_PAGES", "PRIMARY"),
    ("NODE_DEVICE_DETACH_FLAGS", "PRIMARY"), ("NODE_DEVICE_RESET", "PRIMARY"),
    ("NODE_DEVICE_DETTACH", "PRIMARY"), ("NODE_DEVICE_RE_ATTACH", "PRIMARY"), ("NODE_ALLOC_PAGES", "PRIMARY"),
    ("CONNECT_LIST_ALL_DOMAINS", "PRIMARY"), ("DOMAIN_BLOCK_COPY", "PRIMARY"),
    ("CONNECT_GET_ALL_DOMAIN_STATS", "PRIMARY"), ("CONNECT_OPEN", "PRIMARY"),
]


def main():
    spec = importlib.util.spec_from_file_location("gen_dispatch", sys.argv[1])
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    print("1..%d" % len(CASES))
    status = 0
    for i, (name, want) in enumerate(CASES, 1):
        got = gen.family(name)
        if got == want:
            print("ok %d - %s: %s" % (i, name, want))
        else:
            status = 1
            print("not ok %d - %s: %s, expected %s" % (i, name, got, want))
    return status


if __name__ == "__main__":
    sys.exit(main())
