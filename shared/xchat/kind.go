package xchat

import "strconv"

// Kind says which detail an event carries: the variant of the Thrift
// MessageEventDetail union.
type Kind int

// The kinds of event. KindUnknown covers events without a detail and
// detail variants this package does not know.
const (
	KindUnknown            Kind = iota
	KindMessage                 // MessageCreateEvent: a message, reaction or edit
	KindKeyChange               // ConversationKeyChangeEvent
	KindGroupChange             // GroupChangeEvent
	KindFailure                 // MessageFailureEvent
	KindTyping                  // MessageTypingEvent
	KindMessageDelete           // MessageDeleteEvent
	KindConversationDelete      // ConversationDeleteEvent
	KindSettingsChange          // ConversationMetadataChangeEvent
	KindGrokSearchResponse      // GrokSearchResponseEvent
	KindReadReceipt             // MarkConversationReadEvent
	KindMarkedUnread            // MarkConversationUnreadEvent
	KindMemberDeleted           // MemberAccountDeleteEvent
)

// detailKinds maps MessageEventDetail field ids to kinds.
var detailKinds = map[int16]Kind{
	1: KindMessage, 3: KindKeyChange, 4: KindGroupChange, 5: KindFailure,
	6: KindTyping, 7: KindMessageDelete, 8: KindConversationDelete,
	9: KindSettingsChange, 10: KindGrokSearchResponse, 12: KindReadReceipt,
	13: KindMarkedUnread, 14: KindMemberDeleted,
}

func kindOf(id int16) Kind { return detailKinds[id] }

var kindNames = [...]string{
	"unknown", "message", "keyChange", "groupChange", "failure", "typing",
	"messageDeleted", "conversationDeleted", "settingsChange",
	"grokSearchResponse", "readReceipt", "markedUnread", "memberDeleted",
}

// String returns the kind's name, as the SDK's Event.type spells it.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// A Failure describes why the backend failed to deliver a message.
type Failure struct {
	Type          FailureType
	RateLimitTier RateLimitTier // set for FailureRateLimitUpsell; 0 if absent
}

// FailureType is the Thrift FailureType enum.
type FailureType int32

// The failure types X defines.
const (
	FailureEmptyDetail                        FailureType = 1
	FailureInternalError                      FailureType = 2
	FailureContentsTooLarge                   FailureType = 3
	FailureTooManyMessages                    FailureType = 4
	FailureInvalidSenderSignature             FailureType = 5
	FailureNonLatestKeyVersion                FailureType = 6
	FailureRecipientHasNotTrustedConversation FailureType = 7
	FailureRecipientKeyHasChanged             FailureType = 8
	FailureOnlyEncryptedMessagesAllowed       FailureType = 9
	FailureRequesterNotAdmin                  FailureType = 10
	FailureFlaggedAsSpam                      FailureType = 11
	FailureRateLimitUpsell                    FailureType = 12
	FailureSignatureFailedToVerify            FailureType = 13
	FailureGenericError                       FailureType = 14
	FailureSenderNotGroupMember               FailureType = 15
	FailureInvalidSignatureVersion            FailureType = 16
	FailureInvalidPinRequest                  FailureType = 17
	FailureTooManyPins                        FailureType = 18
)

var failureNames = [...]string{
	"", "EmptyDetail", "InternalError", "ContentsTooLarge", "TooManyMessages",
	"InvalidSenderSignature", "NonLatestCkeyVersion",
	"RecipientHasNotTrustedConversation", "RecipientKeyHasChanged",
	"OnlyEncryptedMessagesAllowed", "RequesterNotAdmin", "FlaggedAsSpam",
	"RateLimitUpsell", "SignatureFailedToVerifyAgainstPublicKey",
	"GenericError", "SenderNotGroupMember", "InvalidSignatureVersion",
	"InvalidPinRequest", "TooManyPins",
}

// String returns the failure type's name as the SDK spells it.
func (f FailureType) String() string {
	if f > 0 && int(f) < len(failureNames) {
		return failureNames[f]
	}
	return "FailureType(" + strconv.Itoa(int(f)) + ")"
}

// RateLimitTier is the Thrift RateLimitTier enum: the account tier whose
// rate limit a message hit.
type RateLimitTier int32

// The rate-limit tiers X defines.
const (
	TierFree            RateLimitTier = 1
	TierVerifiedPhone   RateLimitTier = 2
	TierPremium         RateLimitTier = 3
	TierPremiumPlus     RateLimitTier = 4
	TierPremiumBusiness RateLimitTier = 5
)

var tierNames = [...]string{"", "Free", "VerifiedPhone", "Premium", "PremiumPlus", "PremiumBusiness"}

// String returns the tier's name as the SDK spells it.
func (r RateLimitTier) String() string {
	if r > 0 && int(r) < len(tierNames) {
		return tierNames[r]
	}
	return "RateLimitTier(" + strconv.Itoa(int(r)) + ")"
}
