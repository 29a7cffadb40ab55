/* Example from the provider documentation,
   variation 5. */
provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "example" {
  name     = "example-resources-5"
  location = "West Europe"
}

resource "azurerm_storage_account" "example" {
  name                     = "storageaccountname5"
  resource_group_name      = azurerm_resource_group.example.name
  location                 = azurerm_resource_group.example.location
  account_tier             = "Standard"
  account_replication_type = "GRS"

  tags = {
    environment = "staging"
  }
}

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
