/* qemu_agent_calls.h: the guest agent's procedures (issue 18 items 1-3): SET_TIME,
 * FSFREEZE, FSTHAW, GET_FSINFO, SET_USER_PASSWORD and INTERFACE_ADDRESSES. */
#pragma once

#include "programs/remote.h"

void qemu_agent_calls_install(SvRemoteHandlers *h);
