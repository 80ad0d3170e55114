from courseware.roles import is_instructor


def roles(request) -> dict:
    return {"is_instructor": is_instructor(request.user)}
