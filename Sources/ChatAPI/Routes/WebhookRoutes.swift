import Hummingbird

/// `/conversations/{id}/webhooks` (managing a group's incoming webhooks) and `/hooks/{id}/{secret}`
/// (posting through one, no other credential needed) — docs/protocol.md "Incoming webhooks".
public struct WebhookRoutes: Sendable {
    let webhooks: WebhookService
    let publicURL: String?

    struct CreateBody: Decodable { var name: String }
    struct WebhookList: Encodable { var webhooks: [WebhookDTO] }

    /// `{content}` or `{text}` (Slack's field name, so existing senders work unchanged).
    struct PostBody: Decodable { var content: String?; var text: String? }

    /// On the authenticated `/conversations` group.
    public func addManagement(to group: RouterGroup<ParleyRequestContext>) {
        group.post(":id/webhooks") { request, context in
            let caller = try context.requireCaller()
            let id = try context.parameters.path("id")
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let (created, path) = try await webhooks.create(id, name: body.name, caller)
            var webhook = created
            webhook.url = PublicOrigin.of(request, configured: publicURL) + path
            return try jsonResponse(webhook, status: .created)
        }
        group.get(":id/webhooks") { _, context in
            let list = try await webhooks.list(context.parameters.path("id"), context.requireCaller())
            return try jsonResponse(WebhookList(webhooks: list))
        }
        group.delete(":id/webhooks/:webhookId") { _, context in
            try await webhooks.delete(context.parameters.path("id"), webhookId: context.parameters.path("webhookId"),
                                      context.requireCaller())
            return Response.noContent
        }
    }

    /// On `/hooks`, without authentication: the URL's secret is the credential.
    public func addIncoming(to group: RouterGroup<ParleyRequestContext>) {
        group.post(":id/:secret") { request, context in
            let body = try await JSONBody.decode(PostBody.self, from: request)
            guard let content = body.content ?? body.text else { throw APIError.invalidField("content", "content is required.") }
            let message = try await webhooks.post(webhookId: context.parameters.path("id"),
                                                  secret: context.parameters.path("secret"), content: content)
            return try jsonResponse(message, status: .created)
        }
    }
}
