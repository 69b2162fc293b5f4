/* vCPU threads: KVM_RUN and the exits it brings back. */
#ifndef WEBKVM_VMM_VCPU_H
#define WEBKVM_VMM_VCPU_H

#include "vmm/vm.h"

/* Signal used to pull a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
/* Install the (empty) handler for VCPU_KICK_SIGNAL; once per process. */
void vcpu_setup_kick_signal(void);

#endif
