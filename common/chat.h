/* chat.h - one message of an OpenAI-style chat (role and content), the type
 * that the wire protocol, the OpenAI API helpers and the scorers share. */
#ifndef TOA_CHAT_H
#define TOA_CHAT_H

typedef struct {
    char *role;              /* "system", "user", "assistant" */
    char *content;
} toa_chat_message_t;

#endif
