"""Every GraphQL document the plugin sends to the Shopify Admin API, in one place.

Each document validates against the official Admin schema (2025-01, vendored in
``sandbox/admin_schema_2025-01.json.gz``); ``tests/test_documents.py`` enforces it, and the sandbox
validates every incoming document against the same schema at run time.

Page sizes are chosen so that a document's *requested* cost (connection = 2 + first × node cost)
stays below Shopify's 1,000-point single-query ceiling; see :mod:`bridge_shopify.throttle`.
"""

from __future__ import annotations

#: Products per page of the cursor stream, and the nested page sizes inside one product. Query
#: cost is charged on the page sizes asked for, not on what comes back: five variants per product
#: cover most products at 48 points each (ten cost 78); the rest of a larger product is asked for
#: by its ``variantsCount``.
PRODUCTS_PAGE = 12
VARIANTS_PER_PRODUCT = 5
VARIANTS_PAGE = 100
INVENTORY_PAGE = 50
ORDERS_PAGE = 5
FULFILLMENT_ORDERS_BATCH = 8

_VARIANT_FIELDS = """
        id title sku barcode price compareAtPrice inventoryQuantity inventoryPolicy
        selectedOptions { name value }
        image { url }
        inventoryItem { id tracked measurement { weight { value unit } } }
"""

_PRODUCT_FIELDS = f"""
      id title handle descriptionHtml vendor productType tags status updatedAt onlineStoreUrl
      category {{ fullName }}
      options {{ name values }}
      collections(first: 3) {{ nodes {{ title }} }}
      media(first: 3) {{ nodes {{ ... on MediaImage {{ id alt image {{ url altText }} }} }} }}
      variantsCount {{ count }}
      variants(first: $variantsFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_VARIANT_FIELDS} }}
      }}
"""

SHOP = """
query Shop {
  shop {
    id name email myshopifyDomain currencyCode ianaTimezone
    primaryDomain { host url }
    billingAddress { countryCodeV2 }
    plan { displayName partnerDevelopment shopifyPlus }
  }
}
"""

PREREQUISITES = """
query Prerequisites {
  currentAppInstallation { accessScopes { handle } }
  locations(first: 50) { nodes { id name isActive } }
}
"""

ORDERS_PROTECTED_PROBE = """
query ProtectedCustomerDataProbe {
  orders(first: 1) { nodes { id email shippingAddress { firstName lastName address1 } } }
}
"""

PRODUCTS_COUNT = """
query ProductsCount($query: String) {
  productsCount(query: $query) { count precision }
}
"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String, $variantsFirst: Int!) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_PRODUCT_FIELDS} }}
  }}
}}
"""

#: The same page in product id order: a full read beside a running bulk export (the export then
#: takes over from the highest id read).
PRODUCTS_ID_ORDER = f"""
query ProductsIdOrder($first: Int!, $after: String, $query: String, $variantsFirst: Int!) {{
  products(first: $first, after: $after, query: $query, sortKey: ID) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_PRODUCT_FIELDS} }}
  }}
}}
"""

PRODUCTS_BY_ID = f"""
query ProductsById($ids: [ID!]!, $variantsFirst: Int!) {{
  nodes(ids: $ids) {{
    ... on Product {{ {_PRODUCT_FIELDS} }}
  }}
}}
"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_VARIANT_FIELDS} }}
    }}
  }}
}}
"""

#: The bulk export of the catalog (sent as a string to ``bulkOperationRunQuery``): at most two
#: levels of nesting and five connections, ``edges { node }`` and no page sizes, as Shopify asks.
BULK_PRODUCTS = """
{
  products(query: "status:active,draft,archived") {
    edges { node {
      id title handle descriptionHtml vendor productType tags status updatedAt onlineStoreUrl
      category { fullName }
      options { name values }
      collections { edges { node { id title } } }
      media { edges { node { ... on MediaImage { id alt image { url altText } } } } }
      variants { edges { node {
        id title sku barcode price compareAtPrice inventoryQuantity inventoryPolicy
        selectedOptions { name value }
        image { url }
        inventoryItem { id tracked measurement { weight { value unit } } }
      } } }
    } }
  }
}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}
"""

BULK_STATUS = """
query BulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation {
      id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl
    }
  }
}
"""

BULK_CANCEL = """
mutation BulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

CURRENT_BULK = """
query CurrentBulk {
  currentBulkOperation(type: QUERY) { id status createdAt url query }
}
"""

LOCATIONS = """
query Locations {
  locations(first: 250, includeInactive: true) { nodes { id name isActive } }
}
"""

_LEVEL_FIELDS = """
  id sku tracked
  variant { id product { id } }
  inventoryLevels(first: $levelsFirst) {
    nodes { location { id } quantities(names: ["available"]) { name quantity } }
  }
"""

INVENTORY_BY_IDS = f"""
query InventoryByIds($ids: [ID!]!, $levelsFirst: Int!) {{
  nodes(ids: $ids) {{
    ... on ProductVariant {{ id inventoryItem {{ {_LEVEL_FIELDS} }} }}
    ... on InventoryItem {{ {_LEVEL_FIELDS} }}
  }}
}}
"""

INVENTORY_ALL = f"""
query InventoryAll($first: Int!, $after: String, $levelsFirst: Int!) {{
  productVariants(first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id inventoryItem {{ {_LEVEL_FIELDS} }} }}
  }}
}}
"""

_ORDER_FIELDS = """
      id name createdAt updatedAt cancelledAt cancelReason sourceName sourceIdentifier tags email
      displayFinancialStatus displayFulfillmentStatus currencyCode
      customAttributes { key value }
      shippingAddress {
        name firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone
      }
      subtotalPriceSet { shopMoney { amount currencyCode } }
      totalShippingPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 30) {
        pageInfo { hasNextPage }
        nodes {
          id title sku quantity currentQuantity
          variant { id }
          product { id }
          originalUnitPriceSet { shopMoney { amount currencyCode } }
        }
      }
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_ORDER_FIELDS} }}
  }}
}}
"""

ORDERS_BY_ID = f"""
query OrdersById($ids: [ID!]!) {{
  nodes(ids: $ids) {{
    ... on Order {{ {_ORDER_FIELDS} }}
  }}
}}
"""

FIND_ORDER = """
query FindOrder($query: String!) {
  orders(first: 10, query: $query) {
    nodes { id name sourceIdentifier tags customAttributes { key value } }
  }
}
"""

ORDER_CREATE = """
mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name legacyResourceId }
    userErrors { field message code }
  }
}
"""

ORDER_CANCEL_STATE = """
query OrderCancelState($id: ID!) {
  order(id: $id) { id cancelledAt displayFulfillmentStatus }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: false, restock: true,
              notifyCustomer: false, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

FULFILLMENTS = """
query Fulfillments($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Order {
      id
      fulfillments(first: 20) {
        id status createdAt
        trackingInfo(first: 10) { company number url }
        fulfillmentLineItems(first: 50) { nodes { lineItem { id } } }
      }
    }
  }
}
"""

WEBHOOKS = """
query Webhooks($callbackUrl: URL!) {
  webhookSubscriptions(first: 100, callbackUrl: $callbackUrl) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}
"""

WEBHOOKS_ALL = """
query WebhooksAll($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WEBHOOK_DELETE = """
mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

#: Every document sent to the GraphQL endpoint (the test validates each against the schema).
DOCUMENTS: dict[str, str] = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and not name.startswith("_")
}

REFUND_STATE = """
query RefundState($id: ID!) {
  order(id: $id) {
    id currencyCode cancelledAt
    totalPriceSet { shopMoney { amount } }
    totalRefundedSet { shopMoney { amount } }
    transactions(first: 10) { id kind status gateway manualPaymentGateway amountSet { shopMoney { amount } } }
    refunds(first: 20) {
      id note createdAt totalRefundedSet { shopMoney { amount currencyCode } }
      refundLineItems(first: 20) { nodes { quantity restockType restocked lineItem { id variant { id } } } }
    }
    lineItems(first: 100) {
      nodes { id quantity currentQuantity refundableQuantity fulfillableQuantity variant { id } product { id } }
    }
  }
}
"""

REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id note createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""
