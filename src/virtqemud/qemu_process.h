/* qemu_process.h: running QEMU guests: start, QMP events, the kill path, and the
 * lifecycle procedures built on them. */
#pragma once

#include "daemon/daemon.h"
#include "domain/domain_driver.h"
#include "qemu_caps.h"
#include "qemu_ports.h"
#include "qemu_security.h"

typedef SvKillTimeouts QemuTimeouts;

typedef struct QemuMigrations QemuMigrations;

typedef struct {
    SvDaemon *daemon;
    SvDomainDriver *domains;
    QemuCaps *caps;
    QemuTimeouts timeouts;
    QemuSecurity *security; /* QEMU's user, group and SELinux labels */
    char *lib_dir; /* ROOT/var/lib/libvirt/qemu */
    char *nvram_dir; /* ROOT/var/lib/libvirt/qemu/nvram: the guests' UEFI variable stores */
    char *dump_dir;  /* ROOT/var/lib/libvirt/qemu/dump: crash dumps (libvirt's auto_dump_path) */
    char *run_dir; /* ROOT/run/libvirt/qemu */
    char *family_run_dir; /* ROOT/run/libvirt: the secondary drivers' daemons' sockets */
    char *log_dir; /* ROOT/var/log/libvirt/qemu */
    GStrv allowed_emulators; /* allowed_emulators: run besides the capabilities' emulator */
    GHashTable *consoles;    /* the open consoles (qemu_console.c) */
    QemuPorts *display_ports;   /* remote_display_port_min..max: vnc and spice autoports */
    QemuPorts *websocket_ports; /* websocket_port_min..max: vnc websocket='-1' */
    QemuPorts *migration_ports; /* migration_port_min..max: incoming migrations' listeners */
    char *migration_address;    /* migration_address: where they listen, NULL: everywhere */
    char *migrate_tls_dir;      /* migrate_tls_x509_cert_dir, NULL: ROOT/etc/pki/qemu */
    GHashTable *migrate_speeds; /* UUID string -> guint64 *: MIGRATE_SET_MAX_SPEED's MiB/s
                                   kept for a guest's next migration (qemu_migration_job.c) */
    /* The migrations' phases under way (qemu_migrate_calls.c). */
    struct QemuMigrations *migrations;
    char *cgroup_root;       /* cgroup_root: where the hierarchies are mounted */
    char *cgroup_parent;     /* cgroup_parent: every guest's cgroup is PARENT/NAME.libvirt-qemu */
} QemuProcessContext;

/* Install the lifecycle handlers (create, destroy, shutdown, ...) into h; a client that
 * goes takes the guests it started with AUTODESTROY with it (domain/domain_driver.h). */
void qemu_process_install(QemuProcessContext *ctx, SvRemoteHandlers *h);

/* Find running guests again from their status files (adopting or killing every QEMU
 * they name, per docs/lifecycle.md), then autostart domains once per host boot. Call
 * after the definitions are loaded and before serving. */
void qemu_process_reconnect_all(QemuProcessContext *ctx);

/* The pty QEMU gave serial port N, or NULL (not a pty, not known yet). */
const char *qemu_process_get_pty(SvDomainObj *obj, guint serial);

/* A running guest's SELinux label, or NULL (not running, not labelled). (transfer none) */
const QemuSecLabel *qemu_process_get_seclabel(SvDomainObj *obj);

/* Install DOMAIN_OPEN_CONSOLE (qemu_console.c); its handler finds ctx from its call.
 * qemu_console_cleanup frees what it keeps in ctx, once the clients are gone. */
void qemu_console_install(QemuProcessContext *ctx, SvRemoteHandlers *h);
void qemu_console_cleanup(QemuProcessContext *ctx);
/* obj's QEMU is gone: its console, if a client has it, no longer holds the guest's. */
void qemu_console_release(SvDomainObj *obj);

/* CPU time of a running guest's QEMU, in ns. */
guint64 qemu_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj);

/* The facts of a QEMU guest's run for the engine (domain/domain_run.h): its data, what its
 * end releases. */
extern const SvRunFacts qemu_run_facts;
