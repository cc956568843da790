/* domain_iotune.c: block I/O throttling refused as libvirt's lxc and libxl drivers refuse it
 * (domain_iotune.h): the public API finds no driver function and says so. */
#include "domain/domain_iotune.h"

#include "util/error.h"

static gboolean
set_no_support(SvCall *call, remote_domain_set_block_io_tune_args *a, GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainSetBlockIoTune");
    return FALSE;
}

static gboolean
get_no_support(SvCall *call, remote_domain_get_block_io_tune_args *a,
               remote_domain_get_block_io_tune_ret *ret, GError **error)
{
    (void)call;
    (void)a;
    (void)ret;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainGetBlockIoTune");
    return FALSE;
}

void
sv_domain_iotune_install_no_support(SvRemoteHandlers *h)
{
    h->domain_set_block_io_tune = set_no_support;
    h->domain_get_block_io_tune = get_no_support;
}
