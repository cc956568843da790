/* qemu_agent_info.h: DOMAIN_GET_GUEST_INFO from the guest agent (issue 18, virsh
 * guestinfo). */
#pragma once

#include "programs/remote.h"

void qemu_agent_info_install(SvRemoteHandlers *h);
