"""The Service Portal generation (REFSSI_PORTAL_UI=sp): a page shell whose widgets the browser renders from JSON."""
