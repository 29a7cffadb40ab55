# Example from the provider documentation, variation 0.
provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "example" {
  name     = "example-resources-0"
  location = "West Europe"
}

resource "azurerm_storage_account" "example" {
  name                     = "storageaccountname0"
  resource_group_name      = azurerm_resource_group.example.name
  location                 = azurerm_resource_group.example.location
  account_tier             = "Standard"
  account_replication_type = "GRS"

  tags = {
    environment = "staging"
  }
}
