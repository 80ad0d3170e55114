from django.utils.functional import SimpleLazyObject

from courseware.roles import is_instructor


def roles(request) -> dict:
    # Lazy: fragments that never show the navigation do not pay for the query.
    return {"is_instructor": SimpleLazyObject(lambda: is_instructor(request.user))}
