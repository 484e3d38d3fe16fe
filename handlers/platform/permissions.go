package platform

// The platform's permissions: permAdmin is every administration operation, permEvents the publishing of
// call events. Allows says who holds which.
const (
	permAdmin  = "admin"
	permEvents = "events"
)

// Permissions is the operationId → permissions table.
func (h *Handler) Permissions() map[string][]string { return permissions }

// permissions lists every secured operation of openapi/platform.yaml (GET /health is public); an operation
// without an entry is refused with 500 (fail closed).
var permissions = map[string][]string{
	"postCallEvent": {permEvents},

	"createWebhook":         {permAdmin},
	"listWebhooks":          {permAdmin},
	"getWebhook":            {permAdmin},
	"updateWebhook":         {permAdmin},
	"deleteWebhook":         {permAdmin},
	"listWebhookDeliveries": {permAdmin},

	"createApiKey": {permAdmin},
	"listApiKeys":  {permAdmin},
	"revokeApiKey": {permAdmin},

	"createDncList":       {permAdmin},
	"listDncLists":        {permAdmin},
	"getDncList":          {permAdmin},
	"updateDncList":       {permAdmin},
	"deleteDncList":       {permAdmin},
	"addDncNumbers":       {permAdmin},
	"listDncNumbers":      {permAdmin},
	"deleteDncNumber":     {permAdmin},
	"importDncNumbersCsv": {permAdmin},
	"attachDncList":       {permAdmin},
	"detachDncList":       {permAdmin},
	"lookupDnc":           {permAdmin},

	"createCollectDatabase": {permAdmin},
	"listCollectDatabases":  {permAdmin},
	"getCollectDatabase":    {permAdmin},
	"deleteCollectDatabase": {permAdmin},
	"createCollectOperator": {permAdmin},
	"listCollectOperators":  {permAdmin},
	"getCollectOperator":    {permAdmin},
	"updateCollectOperator": {permAdmin},
	"deleteCollectOperator": {permAdmin},

	"createCollectRecordDef": {permAdmin},
	"listCollectRecordDefs":  {permAdmin},
	"getCollectRecordDef":    {permAdmin},
	"deleteCollectRecordDef": {permAdmin},

	"createCollectForm": {permAdmin},
	"listCollectForms":  {permAdmin},
	"getCollectForm":    {permAdmin},
	"deleteCollectForm": {permAdmin},

	"createCollectReport": {permAdmin},
	"listCollectReports":  {permAdmin},
	"getCollectReport":    {permAdmin},
	"deleteCollectReport": {permAdmin},

	"createCollectPlan": {permAdmin},
	"listCollectPlans":  {permAdmin},
	"getCollectPlan":    {permAdmin},
	"deleteCollectPlan": {permAdmin},
	"getCollectPlanJob": {permAdmin},

	"createUContactUser":     {permAdmin},
	"listUContactUsers":      {permAdmin},
	"getUContactUser":        {permAdmin},
	"deleteUContactUser":     {permAdmin},
	"createUContactCampaign": {permAdmin},
	"listUContactCampaigns":  {permAdmin},
	"deleteUContactCampaign": {permAdmin},

	"createAccoladesAccount": {permAdmin},
	"listAccoladesAccounts":  {permAdmin},
	"getAccoladesAccount":    {permAdmin},
	"deleteAccoladesAccount": {permAdmin},
	"createAccoladesAgent":   {permAdmin},
	"listAccoladesAgents":    {permAdmin},
	"getAccoladesAgent":      {permAdmin},
	"deleteAccoladesAgent":   {permAdmin},
}
