package dev.basalt.api.fleet;

/**
 * The body of every error answer of the fleet server.
 *
 * @param status the HTTP status
 * @param error what was wrong, naming the field, object or limit
 */
public record ApiError(int status, String error) {}
