package ictcore

// permissions is the permission table: every secured operationId of openapi/ictcore.yaml → the ICTCore
// permissions the caller must hold (all of them), as ICTCore's routes check them (notes/ictcore.md §3).
// Names are the seeded ICTCore permission names (notes/ictcore.md §10); a parent name such as `contact`
// grants every `contact_*`. Operations with `security: []` (authenticate) are public and absent. An
// operation without an entry is refused with 500 (fail closed). Lines marked "Switchboard:" are operations
// ICTCore does not check (or does not register); the permission there is chosen by analogy.
var permissions = map[string][]string{
	// Contacts
	"createContact":      {"contact_create"},
	"listContacts":       {"contact_list"},
	"getContact":         {"contact_read"},
	"updateContact":      {"contact_update"},
	"deleteContact":      {"contact_delete"},
	"linkContact":        {"contact_create", "group_create"},
	"unlinkContact":      {"contact_delete", "group_delete"},
	"unlinkContactByGet": {"contact_delete", "group_delete"}, // Switchboard: the guide's GET form (not registered in ICTCore); same as the DELETE.

	// Groups
	"createGroup":       {"group_create"},
	"listGroups":        {"group_list"},
	"getGroup":          {"group_read"},
	"updateGroup":       {"group_update"},
	"deleteGroup":       {"group_delete"},
	"listGroupContacts": {"group_read", "contact_list"},
	"importGroupCsv":    {"group_update"}, // Switchboard: ICTCore checks none here; Switchboard fails closed (import changes the group).
	"exportGroupCsv":    {"group_read"},   // Switchboard: ICTCore checks none here; Switchboard fails closed (export reads the group).
	"getGroupCsvSample": {"group_read"},   // Switchboard: ICTCore checks none here; secured in the contract, so as export.

	// Programs
	"listPrograms":              {"program_list"},
	"getProgram":                {"program_read"},
	"deleteProgram":             {"program_delete"},
	"createProgramTransmission": {"program_create", "transmission_create"},
	"putProgramTransmission":    {"program_create", "transmission_create"}, // Switchboard: the guide's PUT form (ICTCore registers POST only); same as the POST.
	"listProgramTransmissions":  {"program_read", "transmission_list"},     // Switchboard: ICTCore checks none here; Switchboard fails closed (as listGroupContacts).
	"createEmailtofaxProgram":   {"program_create"},
	"createFaxtoemailProgram":   {"program_create"},
	"createReceiveemailProgram": {"program_create"},
	"createReceivefaxProgram":   {"program_create"},
	"createReceivesmsProgram":   {"program_create"},
	"createSendemailProgram":    {"program_create"},
	"createSendfaxProgram":      {"program_create"},
	"createSendsmsProgram":      {"program_create"},
	"createVoicemessageProgram": {"program_create"},
	"createVoicettsProgram":     {"program_create"},

	// Transmissions
	"createTransmission":         {"transmission_create"},
	"listTransmissions":          {"transmission_list"},
	"getTransmission":            {"transmission_read"},
	"deleteTransmission":         {"transmission_delete"},
	"sendTransmission":           {"transmission_send"},
	"retryTransmission":          {"transmission_send"},
	"scheduleTransmission":       {"transmission_send", "task_create"},
	"cancelTransmissionSchedule": {"transmission_update", "task_delete"},
	"cloneTransmission":          {"transmission_read", "transmission_create"},

	// Reports
	"getTransmissionStatus":   {"transmission_read"},
	"listTransmissionSpools":  {"transmission_read", "spool_read"},
	"listTransmissionResults": {"result_read"},
	"getSpoolStatus":          {"spool_read"},
	"listSpoolResults":        {"spool_read", "result_read"},

	// Campaigns
	"createCampaign":               {"campaign_create"},
	"listCampaigns":                {"campaign_list"},
	"getCampaign":                  {"campaign_read"},
	"updateCampaign":               {"campaign_update"},
	"deleteCampaign":               {"campaign_delete"},
	"startCampaign":                {"campaign_start"},
	"stopCampaign":                 {"campaign_stop"},
	"scheduleCampaignStart":        {"task_create"},
	"scheduleCampaignStop":         {"task_create"},
	"cancelCampaignSchedule":       {"task_delete"}, // Switchboard: ICTCore checks none here; Switchboard fails closed (the schedule is a task).
	"cancelCampaignScheduleByPost": {"task_delete"}, // Switchboard: the guide's POST form (ICTCore registers DELETE only, unchecked); as the DELETE.

	// Statistics
	"getStatistics": {"statistic_read"},

	// Documents
	"createDocument":        {"document_create"},
	"listDocuments":         {"document_list"},
	"getDocument":           {"document_read"},
	"updateDocument":        {"document_update"},
	"deleteDocument":        {"document_delete"},
	"uploadDocumentMedia":   {"document_create"},
	"postDocumentMedia":     {"document_create"},
	"downloadDocumentMedia": {"document_read"},

	// Recordings
	"createRecording":        {"recording_create"},
	"listRecordings":         {"recording_list"},
	"getRecording":           {"recording_read"},
	"updateRecording":        {"recording_update"},
	"deleteRecording":        {"recording_delete"},
	"uploadRecordingMedia":   {"recording_create"},
	"postRecordingMedia":     {"recording_create"},
	"downloadRecordingMedia": {"recording_read"},

	// Templates
	"createTemplate":        {"template_create"},
	"listTemplates":         {"template_list"},
	"getTemplate":           {"template_read"},
	"updateTemplate":        {"template_update"},
	"deleteTemplate":        {"template_delete"},
	"uploadTemplateMedia":   {"template_create"},
	"postTemplateMedia":     {"template_create"},
	"downloadTemplateMedia": {"template_read"},

	// Texts
	"createText": {"text_create"},
	"listTexts":  {"text_list"},
	"getText":    {"text_read"},
	"updateText": {"text_update"},
	"deleteText": {"text_delete"},

	// Accounts
	"createAccount":             {"account_create"},
	"listAccounts":              {"account_list"},
	"getAccount":                {"account_read"},
	"updateAccount":             {"account_update"},
	"deleteAccount":             {"account_delete"},
	"subscribeAccountProgram":   {"account_update", "program_create", "program_execute"},
	"unsubscribeAccountProgram": {"account_update", "program_delete"},
	"clearAccountPrograms":      {"account_update", "program_delete"},
	"assignAccountUser":         {"account_create", "user_update"},
	"dissociateAccountUser":     {"account_delete", "user_update"},
	"getAccountSetting":         {"account_read"},
	"updateAccountSetting":      {"account_update"},
	"deleteAccountSetting":      {"account_update"},

	// Users
	"createUser":           {"user_create"},
	"listUsers":            {"user_list"},
	"getUser":              {"user_read"},
	"updateUser":           {"user_update"},
	"deleteUser":           {"user_delete"},
	"updateUserPassword":   {"user_password"},
	"addUserRole":          {"user_update", "role_update"},
	"removeUserRole":       {"user_update", "role_update"},
	"addUserPermission":    {"user_update", "permission_create"},
	"removeUserPermission": {"user_update", "permission_delete"},
	"listRoles":            {"role_list"},       // Switchboard: not in the guide (ambiguity 57); the reference code's GET roles. Granted by the parent `role`.
	"listPermissions":      {"permission_list"}, // Switchboard: not in the guide (ambiguity 57); the reference code's GET permissions. Granted by the parent `permission`.

	// Providers
	"createProvider": {"provider_create"},
	"listProviders":  {"provider_list"},
	"getProvider":    {"provider_read"},
	"updateProvider": {"provider_update"},
	"deleteProvider": {"provider_delete"},

	// Aliases (aliases.go; review R7, R8, R9): each as the operation it stands for.
	"cancelTransmissionScheduleByGet": {"transmission_update", "task_delete"}, // as cancelTransmissionSchedule
	"cancelCampaignScheduleByGet":     {"task_delete"},                        // as cancelCampaignSchedule
	"unsubscribeAccountProgramByGet":  {"account_update", "program_delete"},   // as unsubscribeAccountProgram
	"clearAccountProgramsByGet":       {"account_update", "program_delete"},   // as clearAccountPrograms
	"dissociateAccountUserByGet":      {"account_delete", "user_update"},      // as dissociateAccountUser
	"removeUserRoleByGet":             {"user_update", "role_update"},         // as removeUserRole
	"removeUserPermissionByGet":       {"user_update", "permission_delete"},   // as removeUserPermission
	"createDocumentAlias":             {"document_create"},                    // as createDocument
	"listDocumentsAlias":              {"document_list"},                      // as listDocuments
	"getDocumentAlias":                {"document_read"},                      // as getDocument
	"updateDocumentAlias":             {"document_update"},                    // as updateDocument
	"deleteDocumentAlias":             {"document_delete"},                    // as deleteDocument
	"uploadDocumentMediaAlias":        {"document_create"},                    // as uploadDocumentMedia
	"postDocumentMediaAlias":          {"document_create"},                    // as postDocumentMedia
	"downloadDocumentMediaAlias":      {"document_read"},                      // as downloadDocumentMedia
	"createRecordingAlias":            {"recording_create"},                   // as createRecording
	"listRecordingsAlias":             {"recording_list"},                     // as listRecordings
	"getRecordingAlias":               {"recording_read"},                     // as getRecording
	"updateRecordingAlias":            {"recording_update"},                   // as updateRecording
	"deleteRecordingAlias":            {"recording_delete"},                   // as deleteRecording
	"uploadRecordingMediaAlias":       {"recording_create"},                   // as uploadRecordingMedia
	"postRecordingMediaAlias":         {"recording_create"},                   // as postRecordingMedia
	"downloadRecordingMediaAlias":     {"recording_read"},                     // as downloadRecordingMedia
	"createTemplateAlias":             {"template_create"},                    // as createTemplate
	"listTemplatesAlias":              {"template_list"},                      // as listTemplates
	"getTemplateAlias":                {"template_read"},                      // as getTemplate
	"updateTemplateAlias":             {"template_update"},                    // as updateTemplate
	"deleteTemplateAlias":             {"template_delete"},                    // as deleteTemplate
	"uploadTemplateMediaAlias":        {"template_create"},                    // as uploadTemplateMedia
	"postTemplateMediaAlias":          {"template_create"},                    // as postTemplateMedia
	"downloadTemplateMediaAlias":      {"template_read"},                      // as downloadTemplateMedia
	"createTextAlias":                 {"text_create"},                        // as createText
	"listTextsAlias":                  {"text_list"},                          // as listTexts
	"getTextAlias":                    {"text_read"},                          // as getText
	"updateTextAlias":                 {"text_update"},                        // as updateText
	"deleteTextAlias":                 {"text_delete"},                        // as deleteText
	"listFaxes":                       {"transmission_list"},                  // as listTransmissions
	"listCalls":                       {"transmission_list"},                  // as listTransmissions
}
