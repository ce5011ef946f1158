package server

import (
	"testing"

	"github.com/corsbridge/corsbridge/allowlist"
)

// The reason label comes from the refusal's Cause alone: a reworded message
// keeps its label, and a message that mentions another class does not borrow it.
func TestRefusalReasonIsBounded(t *testing.T) {
	tests := []struct {
		kind   allowlist.Kind
		cause  allowlist.Cause
		reason string
		want   string
	}{
		{allowlist.KindOrigin, allowlist.CauseOriginDenied, "origin is denied", "origin_denied"},
		{allowlist.KindOrigin, allowlist.CauseOriginNotAllowed, "origin is not allowed", "origin_not_allowed"},
		{allowlist.KindOrigin, allowlist.CauseOriginNull, "the null origin is not allowed", "origin_not_allowed"},
		{allowlist.KindOrigin, allowlist.CauseOriginMissing, "an Origin header is required", "origin_not_allowed"},
		{allowlist.KindOrigin, allowlist.CauseOriginMalformed, "the Origin header is malformed", "origin_malformed"},
		{allowlist.KindTarget, allowlist.CauseLoopback, "target resolves to a private address (loopback)", "private_address"},
		{allowlist.KindTarget, allowlist.CausePrivate, "target resolves to a private address (private)", "private_address"},
		{allowlist.KindTarget, allowlist.CauseMetadata, "target is a private address (metadata)", "metadata"},
		{allowlist.KindTarget, allowlist.CauseMetadata, "reworded: the cloud's instance data service", "metadata"},
		{allowlist.KindTarget, allowlist.CauseLoopback, "reworded, and it mentions (metadata", "private_address"},
		{allowlist.KindTarget, allowlist.CauseSelf, "target is this proxy itself", "self"},
		{allowlist.KindTarget, allowlist.CausePort, "target port 22 is not allowed", "port"},
		{allowlist.KindTarget, allowlist.CauseLocalName, "target is a local-only host name (.local)", "local_name"},
		{allowlist.KindTarget, allowlist.CauseTargetDenied, "target is denied", "target_denied"},
		{allowlist.KindTarget, allowlist.CauseTargetNotAllowed, "target is not allowed", "target_not_allowed"},
		{allowlist.KindTarget, allowlist.CauseNetwork, "refused to connect over udp", "other"},
		{allowlist.KindTarget, allowlist.CauseUnknown, "target is denied", "other"},
		{allowlist.KindInvalid, allowlist.CauseMalformed, "host is empty", "malformed"},
		{allowlist.KindInvalid, allowlist.CauseScheme, "target must be an http or https URL", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got := refusalReason(&allowlist.Error{Kind: tt.kind, Cause: tt.cause, Reason: tt.reason})
			if got != tt.want {
				t.Errorf("refusalReason = %q, want %q", got, tt.want)
			}
			code := codeTargetForbidden
			switch tt.kind {
			case allowlist.KindOrigin:
				code = codeOriginForbidden
			case allowlist.KindInvalid:
				code = codeInvalidTarget
			}
			found := false
			for _, k := range allRefusals() {
				found = found || k.code == code && k.reason == got
			}
			if !found {
				t.Errorf("%s/%s is not pre-registered", code, got)
			}
		})
	}
}
